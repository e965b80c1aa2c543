"""Every API error as a JSON body with field-level detail, never a traceback."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, list):
        response.data = {"non_field_errors": response.data}
    return response


def error_response(detail, code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(detail if isinstance(detail, dict) else {"detail": detail}, status=code)
