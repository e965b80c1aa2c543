"""Who is changing things, and in which request: carried through contextvars.

Every write is attributed to one *change context*: a web request (``ui`` or ``api``),
a Celery task (``worker``) or a node agent report (``agent``). A Celery task started
by a request carries the request id along, so one user action keeps one request id.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


class ChangeContext:
    UI = "ui"
    API = "api"
    WORKER = "worker"
    AGENT = "agent"
    CHOICES = [(UI, "UI"), (API, "API"), (WORKER, "Worker"), (AGENT, "Node agent")]


@dataclass
class ChangeScope:
    request_id: uuid.UUID = field(default_factory=uuid.uuid4)
    context: str = ChangeContext.WORKER
    user: Any = None  # a User, or None for the system
    actor_name: str = "system"
    message: str = ""
    ticket_ref: str = ""
    request: Any = None  # the HttpRequest, whose user is resolved late

    def actor(self) -> tuple[Any, str]:
        """The acting user and a frozen display name, resolved when a change is recorded."""
        user = self.user
        if user is None and self.request is not None:
            user = getattr(self.request, "user", None)
        if user is not None and getattr(user, "is_authenticated", False):
            return user, user.get_username()
        return None, self.actor_name


_current: ContextVar[ChangeScope | None] = ContextVar("sgpadmin_change_scope", default=None)


def current_scope() -> ChangeScope:
    """The scope of the change in progress; a fresh worker scope when none is open."""
    scope = _current.get()
    if scope is None:
        scope = ChangeScope()
        _current.set(scope)
    return scope


@contextlib.contextmanager
def change_scope(**kwargs) -> Iterator[ChangeScope]:
    """Open a change scope (one user action) for the duration of the block."""
    if "request_id" in kwargs and isinstance(kwargs["request_id"], str):
        kwargs["request_id"] = uuid.UUID(kwargs["request_id"])
    scope = ChangeScope(**kwargs)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


def set_change_message(message: str = "", ticket_ref: str = "") -> None:
    """Attach the user's reason (and ticket) to every change of the current scope."""
    scope = current_scope()
    scope.message = message or scope.message
    scope.ticket_ref = ticket_ref or scope.ticket_ref
