"""docs/webhooks.md's TLS recipe works: the openssl commands make a CA and a serving
certificate, gunicorn serves the webhook with them on loopback, and a client that trusts
only that CA and checks the Service's host name gets an AdmissionReview back."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from .factories import pod, review
from .servers import gunicorn

HOST = "sgpadmin-webhook.sgpadmin.svc"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command"),
]


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(directory: Path) -> None:
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *curve, "-days", "1", "-subj", "/CN=sgpadmin-webhook-ca",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=directory)  # fmt: skip
    openssl("req", *curve, "-subj", f"/CN={HOST}", "-keyout", "tls.key", "-out", "tls.csr",
            cwd=directory)  # fmt: skip
    (directory / "san.ext").write_text(f"subjectAltName=DNS:{HOST},DNS:{HOST}.cluster.local\n")
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-out", "tls.crt", "-extfile", "san.ext",
            cwd=directory)  # fmt: skip


@pytest.fixture
def tls_server(tmp_path):
    make_certificates(tmp_path)
    env = {
        **os.environ,
        "SGPADMIN_MODE": "production",
        "SECRET_KEY": "tls-test-key",
        "ALLOWED_HOSTS": HOST,
        "SGPADMIN_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": "",
    }
    options = [
        f"--certfile={tmp_path / 'tls.crt'}",
        f"--keyfile={tmp_path / 'tls.key'}",
        "--workers=1",
        "--worker-class=gthread",
        "--threads=2",
    ]
    with gunicorn(env, *options) as port:
        yield port, tmp_path / "ca.crt"


def test_gunicorn_serves_the_webhook_over_tls(tls_server):
    port, ca = tls_server
    context = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    connection = http.client.HTTPSConnection(HOST, port, context=context, timeout=10)
    connection.sock = context.wrap_socket(raw, server_hostname=HOST)
    body = review(pod(annotations={"vpc.amazonaws.com/pod-eni": "[]"}))
    connection.request(
        "POST",
        "/validate-v1-pod",
        body=json.dumps(body),
        headers={"Content-Type": "application/json", "Host": HOST},
    )
    response = connection.getresponse()
    answer = json.loads(response.read())
    assert response.status == 200
    assert answer["response"]["uid"] == body["request"]["uid"]
    assert answer["response"]["allowed"] is False

    untrusting = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        untrusting.wrap_socket(
            socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=HOST
        )
