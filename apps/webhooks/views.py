"""The HTTP shell of the admission webhooks: plain Django views, no decisions here.

POST with ``Content-Type: application/json`` only (405 for other methods, 415 for
other content types). A body that is not an AdmissionReview about a Pod, or is larger
than ``SGPADMIN_MAX_BODY_BYTES``, gets HTTP 400 with a Kubernetes ``Status`` that says
why; an unknown cluster gets 404. These answers are not AdmissionReviews, so the API
server applies the webhook's failure policy. Nothing here writes to the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import conf, service
from .admission import (
    AdmissionRequest,
    BadReview,
    Decision,
    failure_status,
    parse_review,
    review_response,
)
from .pods import BadObject

logger = logging.getLogger(__name__)

Decide = Callable[[AdmissionRequest, str | None], Decision]
NODE = "Node"


def _json(body: dict, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":")), status=status, content_type="application/json"
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _failure(code: int, message: str, **headers: str) -> HttpResponse:
    return _json(failure_status(code, message), status=code, **headers)


def _answer(
    request: HttpRequest, cluster: str | None, decide: Decide, kind: str = "Pod"
) -> HttpResponse:
    if request.method != "POST":
        return _failure(
            405, f"{request.method} is not allowed; POST an AdmissionReview", Allow="POST"
        )
    if request.content_type != "application/json":
        return _failure(
            415, f"Content-Type must be application/json, not {request.content_type or 'empty'!r}"
        )
    limit = conf.max_body_bytes()
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return _failure(400, f"the body is {length} bytes; the limit is {limit}")
    try:
        body = request.body
    except RequestDataTooBig:
        return _failure(400, f"the body is larger than the limit of {limit} bytes")
    try:
        review = parse_review(body, kind)
        decision = decide(review, cluster)
    except (BadReview, BadObject) as error:
        return _failure(400, error.message)
    except service.UnknownCluster as error:
        return _failure(404, error.message)
    if not decision.allowed:
        logger.info("denied %s %s: %s", kind, review.operation, decision.message)
    return _json(review_response(review.uid, decision))


@csrf_exempt
def mutate_pod(request: HttpRequest, cluster: str | None = None) -> HttpResponse:
    """``POST /mutate-v1-pod`` (default cluster) and ``/clusters/<name>/mutate-v1-pod``."""
    return _answer(request, cluster, service.mutate)


@csrf_exempt
def validate_pod(request: HttpRequest, cluster: str | None = None) -> HttpResponse:
    """``POST /validate-v1-pod`` (default cluster) and ``/clusters/<name>/validate-v1-pod``."""
    return _answer(request, cluster, service.validate)


@csrf_exempt
def validate_node(request: HttpRequest, cluster: str | None = None) -> HttpResponse:
    """``POST /validate-v1-node`` and ``/clusters/<name>/validate-v1-node``."""
    return _answer(request, cluster, service.validate_node, kind=NODE)
