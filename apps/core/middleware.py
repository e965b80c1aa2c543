"""Request id and change scope for every request."""

from __future__ import annotations

import uuid

from .context import ChangeContext, change_scope


class RequestIdMiddleware:
    """Give each request an id (echoed as ``X-Request-ID``) and a change scope."""

    header = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.id = _parse_request_id(request.META.get(self.header))
        context = ChangeContext.API if request.path.startswith("/api/") else ChangeContext.UI
        with change_scope(request_id=request.id, context=context, request=request) as scope:
            request.change_scope = scope
            response = self.get_response(request)
        response["X-Request-ID"] = str(request.id)
        return response


def _parse_request_id(value: str | None) -> uuid.UUID:
    """Accept a caller's UUID so a ticketing system can correlate; otherwise make one."""
    if value:
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    return uuid.uuid4()
