"""Every API error as a JSON body with field-level detail, never a traceback.

Shapes: validation errors are ``{"field": ["message", ...]}`` (``non_field_errors`` for
the object as a whole, ``body`` for a body that cannot be read at all); other errors
are ``{"detail": "message"}``.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it (If-Match does not match its ETag)."
    default_code = "precondition_failed"

    def __init__(self, detail=None, code=None, etag: str | None = None):
        super().__init__(detail, code)
        self.etag = etag  # the current ETag, returned so the client can re-read and retry


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "This request needs an If-Match header."
    default_code = "precondition_required"


class UnprocessableRequest(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, RequestDataTooBig):
        exc = exceptions.ValidationError({"body": [str(exc) or "The request body is too large."]})
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError({"body": [str(exc.detail)]})
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = Conflict(f"Other objects still depend on this one: {_blocking(exc)}.")
    elif isinstance(exc, DataError | OverflowError):
        # A query value the database cannot hold (an out-of-range number or instant): the
        # filters should have refused it; this is the safety net, so it is still a 400.
        exc = exceptions.ValidationError(
            {"non_field_errors": [f"A value is out of range for the database: {_first_line(exc)}"]}
        )
    elif isinstance(exc, IntegrityError):
        exc = Conflict(f"The database refused the change: {_first_line(exc)}")
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, PreconditionFailed) and exc.etag:
        response["ETag"] = exc.etag
    if isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


def _blocking(exc: ProtectedError | RestrictedError) -> str:
    objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    names = sorted({f"{obj._meta.verbose_name} {obj}" for obj in list(objects)[:10]})
    return ", ".join(names)


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or ["constraint violated"])[0][:300]


def error_response(detail, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(detail if isinstance(detail, dict) else {"detail": detail}, status=code)
