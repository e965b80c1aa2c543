"""API permission: authenticated, token write flag honoured, role allows the action."""

from __future__ import annotations

from rest_framework import permissions

from .models import APIToken
from .scoping import user_can

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def token_of(request) -> APIToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, APIToken) else None


class ScopedPermission(permissions.BasePermission):
    """The default for every API view.

    Object visibility (404 outside scope) is the queryset's ``restrict()``; this class
    answers 401 for anonymous users and 403 when no role grants the action anywhere.
    A view may name its action in ``required_action`` or answer it per request from
    ``get_required_action(request)``; node tokens may call only views that set
    ``allow_node_tokens``.
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        token = token_of(request)
        if token is not None and token.is_node_token and not getattr(view, "allow_node_tokens", False):
            return False
        action = required_action(request, view)
        if token is not None and action != "view" and not token.write_enabled:
            return False
        return user_can(user, action) or bool(token and token.is_node_token)


def required_action(request, view) -> str:
    """The role action a request needs: the view's answer, else the method's."""
    if hasattr(view, "get_required_action"):
        return view.get_required_action(request)
    return getattr(view, "required_action", None) or METHOD_ACTIONS.get(request.method, "admin")


class OwnObjectsPermission(permissions.BasePermission):
    """For a user's own things (API tokens): authenticated, no node token, write flag honoured."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        token = token_of(request)
        if token is None:
            return True
        if token.is_node_token:
            return False
        return request.method in permissions.SAFE_METHODS or token.write_enabled
