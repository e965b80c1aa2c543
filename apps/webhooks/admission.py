"""``admission.k8s.io/v1`` AdmissionReview: reading a request, writing a response.

Pure functions. :func:`parse_review` turns the API server's body into an
:class:`AdmissionRequest` or raises :class:`BadReview` with a message that says what is
wrong; :func:`review_response` turns a :class:`Decision` into the AdmissionReview the
API server expects, with the request's ``uid``, ``allowed``, ``status`` and, for a
mutation, ``patchType: JSONPatch`` with the base64-encoded JSON Patch.

Statuses follow controller-runtime's helpers, which upstream uses: allowed is code 200
with the message; denied is code 403 with reason ``Forbidden`` and the message.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

API_VERSION = "admission.k8s.io/v1"
KIND = "AdmissionReview"
OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")


class BadReview(ValueError):
    """The body is not an AdmissionReview we can answer; the message says why."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class AdmissionRequest:
    """The parts of ``AdmissionReview.request`` the pod webhooks read."""

    uid: str
    operation: str
    namespace: str
    username: str
    object: dict[str, Any] | None
    old_object: dict[str, Any] | None


@dataclass(frozen=True)
class Decision:
    """What to answer: allowed or not, a message, and for a mutation the patch."""

    allowed: bool
    message: str = ""
    code: int = 200
    patch: list[dict[str, Any]] = field(default_factory=list)


def allow(message: str = "") -> Decision:
    return Decision(allowed=True, message=message, code=200)


def deny(message: str) -> Decision:
    return Decision(allowed=False, message=message, code=403)


def allow_with_patch(patch: list[dict[str, Any]], message: str = "") -> Decision:
    return Decision(allowed=True, message=message, code=200, patch=list(patch))


def parse_review(body: bytes | str, kind: str = "Pod") -> AdmissionRequest:
    """Read an ``admission.k8s.io/v1`` AdmissionReview about a core/v1 object of ``kind``."""
    try:
        review = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadReview(f"the body is not JSON: {error}") from None
    if not isinstance(review, dict):
        raise BadReview("the body must be a JSON object (an AdmissionReview)")
    if review.get("apiVersion") != API_VERSION or review.get("kind") != KIND:
        raise BadReview(
            f"expected apiVersion {API_VERSION} and kind {KIND}, got apiVersion "
            f"{review.get('apiVersion')!r} and kind {review.get('kind')!r}"
        )
    request = review.get("request")
    if not isinstance(request, dict):
        raise BadReview("the AdmissionReview has no request object")
    uid = request.get("uid")
    if not isinstance(uid, str) or not uid:
        raise BadReview("request.uid is missing or not a non-empty string")
    _check_kind(request, kind)
    operation = request.get("operation")
    if operation not in OPERATIONS:
        raise BadReview(f"request.operation {operation!r} is not one of {', '.join(OPERATIONS)}")
    namespace = request.get("namespace") or ""
    if not isinstance(namespace, str):
        raise BadReview("request.namespace must be a string")
    user_info = request.get("userInfo") or {}
    username = user_info.get("username") if isinstance(user_info, dict) else None
    if username is not None and not isinstance(username, str):
        raise BadReview("request.userInfo.username must be a string")
    obj = _core_object(request, "object", kind)
    old = _core_object(request, "oldObject", kind)
    noun = kind.lower()
    if operation in ("CREATE", "UPDATE") and obj is None:
        raise BadReview(f"request.object (the {noun}) is required for {operation}")
    if operation == "UPDATE" and old is None:
        raise BadReview(f"request.oldObject (the {noun} before the update) is required for UPDATE")
    return AdmissionRequest(
        uid=uid,
        operation=operation,
        namespace=namespace,
        username=username or "",
        object=obj,
        old_object=old,
    )


def _check_kind(request: dict[str, Any], expected: str) -> None:
    kind = request.get("kind")
    if not isinstance(kind, dict):
        raise BadReview("request.kind (group, version, kind) is missing")
    gvk = (kind.get("group") or "", kind.get("version"), kind.get("kind"))
    if gvk != ("", "v1", expected):
        group, version, name = gvk
        raise BadReview(
            f"this webhook admits core/v1 {expected}s, not {group or 'core'}/{version}/{name}"
        )


def _core_object(request: dict[str, Any], key: str, expected: str) -> dict[str, Any] | None:
    obj = request.get(key)
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise BadReview(f"request.{key} must be a JSON object (a {expected})")
    kind, api_version = obj.get("kind"), obj.get("apiVersion")
    if (kind is not None and kind != expected) or (api_version is not None and api_version != "v1"):
        raise BadReview(f"request.{key} is a {api_version}/{kind}, not a v1/{expected}")
    return obj


def review_response(uid: str, decision: Decision) -> dict[str, Any]:
    """The AdmissionReview that answers request ``uid`` with ``decision``."""
    status: dict[str, Any] = {"code": decision.code}
    if not decision.allowed:
        status["reason"] = "Forbidden"
    if decision.message:
        status["message"] = decision.message
    response: dict[str, Any] = {"uid": uid, "allowed": decision.allowed, "status": status}
    if decision.patch:
        encoded = json.dumps(decision.patch, separators=(",", ":")).encode()
        response["patchType"] = "JSONPatch"
        response["patch"] = base64.b64encode(encoded).decode("ascii")
    return {"apiVersion": API_VERSION, "kind": KIND, "response": response}


def failure_status(code: int, message: str) -> dict[str, Any]:
    """A Kubernetes ``Status`` body for an HTTP error (bad review, unknown cluster)."""
    reasons = {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed"}
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reasons.get(code, "UnsupportedMediaType" if code == 415 else "InternalError"),
        "code": code,
    }
