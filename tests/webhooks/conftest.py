import base64
import json

import pytest

from apps.webhooks.cache import reset_webhook_cache


@pytest.fixture(autouse=True)
def isolated_webhook_cache(settings, tmp_path):
    """A fresh cache per test, with file stamps in a temporary directory."""
    settings.SGPADMIN_WEBHOOK_STAMP = "file"
    settings.SGPADMIN_WEBHOOK_STAMP_DIR = str(tmp_path / "stamps")
    reset_webhook_cache()
    yield
    reset_webhook_cache()


class Answer:
    """An AdmissionReview response, read the way kube-apiserver reads it."""

    def __init__(self, http_response):
        assert http_response.status_code == 200, http_response.content
        assert http_response["Content-Type"] == "application/json"
        body = json.loads(http_response.content)
        assert body["apiVersion"] == "admission.k8s.io/v1"
        assert body["kind"] == "AdmissionReview"
        self.response = body["response"]
        self.uid = self.response["uid"]
        self.allowed = self.response["allowed"]
        self.status = self.response.get("status") or {}
        self.message = self.status.get("message", "")
        self.patch_type = self.response.get("patchType")
        raw = self.response.get("patch")
        self.patch = json.loads(base64.b64decode(raw)) if raw is not None else None


@pytest.fixture
def answer():
    return Answer
