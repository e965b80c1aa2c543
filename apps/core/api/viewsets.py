"""The generic API viewsets: concrete viewsets only declare queryset, serializer, filterset.

What every viewset gets here, so that no concrete viewset has to remember it:

- rows restricted with ``queryset.restrict(user, action)`` (404 outside the user's scope),
  and a created or changed object re-checked against it (403, rolled back, when the write
  would put it outside the scope);
- ``ETag`` on reads and writes, ``If-None-Match`` → 304, ``If-Match`` on PUT/PATCH/DELETE
  checked under a row lock (412 when stale);
- ``Idempotency-Key`` on POST (see :mod:`.idempotency`);
- ``changelog_message`` / ``ticket_ref`` from write bodies (and, on DELETE, from the query
  string or body) attached to the change records of the request;
- validation warnings as a ``Warning`` header (``299 - "<field>: <message>"``, the form the
  Kubernetes API server uses), so the object's JSON shape never changes;
- bodies above ``SGPADMIN_MAX_BODY_BYTES`` refused with 400.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import NoReverseMatch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from apps.accounts.permissions import METHOD_ACTIONS
from apps.core.context import set_change_message

from .etags import etag_for, if_match_satisfied, if_none_match_hit
from .exceptions import PreconditionFailed
from .idempotency import idempotent
from .parsers import JSONParser, max_body_bytes
from .serializers import CHANGE_NOTE_FIELDS, ChangeNoteQuerySerializer

HEADER = OpenApiParameter.HEADER
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match", str, HEADER, description="An ETag you hold: 304 when it is still current."
)
IF_MATCH = OpenApiParameter(
    "If-Match", str, HEADER,
    description="The ETag you read; 412 (with the current ETag) when the object changed since.",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, HEADER,
    description="A key for this request (1-255 characters): a retry with the same key and "
    "body gets the first response again; the same key with another body gets 422.",
)
DELETE_NOTE = [
    OpenApiParameter("changelog_message", str, description="Why; recorded in the change log."),
    OpenApiParameter("ticket_ref", str, description="Ticket reference; recorded in the change log."),
]


def warning_header(warnings: dict[str, list[str]]) -> str:
    """``Warning`` header value: one ``299 - "<path>: <message>"`` per warning."""
    values = []
    for path, messages in warnings.items():
        for message in messages:
            text = f"{path}: {message}".replace("\\", "\\\\").replace('"', '\\"')
            values.append(f'299 - "{text}"')
    return ", ".join(values).encode("latin-1", "replace").decode("latin-1")


class ScopedViewSetMixin:
    """Restriction, ETags, preconditions and change notes for every API viewset."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    # Role action needed for writes when it is not the method's own (clusters: "admin").
    write_action: str | None = None
    # Role action per custom action name, e.g. {"preview": "view"}.
    action_permissions: dict[str, str] = {}
    # Ids that fit the database column; anything else is a plain 404 from the URL resolver.
    lookup_value_regex = r"[0-9]{1,18}"
    _lock_rows = False

    # -- permissions and scope -------------------------------------------------------
    def get_required_action(self, request) -> str:
        mapped = self.action_permissions.get(getattr(self, "action", None) or "")
        if mapped:
            return mapped
        method_action = METHOD_ACTIONS.get(request.method, "admin")
        if method_action != "view" and self.write_action:
            return self.write_action
        return method_action

    def get_queryset(self):
        queryset = super().get_queryset()
        queryset = queryset.restrict(self.request.user, self.get_required_action(self.request))
        if self._lock_rows:
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def ensure_in_scope(self, instance, action: str) -> None:
        """Refuse (and so roll back) a write that leaves the user's scope."""
        model = type(instance)
        if not model.objects.restrict(self.request.user, action).filter(pk=instance.pk).exists():
            raise exceptions.PermissionDenied(
                f"Your roles do not allow you to {action} this {model._meta.verbose_name} here: "
                f"{instance.audit_scope()[0] or '*'}/{instance.audit_scope()[1] or '*'} is "
                "outside your scope."
            )

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication and permissions first
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = max_body_bytes()
        if length.isdigit() and int(length) > limit:
            raise exceptions.ValidationError(
                {"body": [f"The request body is larger than {limit} bytes (SGPADMIN_MAX_BODY_BYTES)."]}
            )

    # -- helpers ----------------------------------------------------------------------
    def get_locked_object(self):
        self._lock_rows = True
        try:
            return self.get_object()
        finally:
            self._lock_rows = False

    def check_if_match(self, instance) -> None:
        current = etag_for(instance)
        if not if_match_satisfied(self.request.headers.get("If-Match"), current):
            raise PreconditionFailed(
                f"The object changed since you read it: its ETag is now {current}. "
                "Read it again and retry.",
                etag=current,
            )

    def apply_change_note(self, serializer) -> None:
        data = serializer.validated_data
        set_change_message(data.pop("changelog_message", ""), data.pop("ticket_ref", ""))

    def response_headers(self, instance, serializer=None, created: bool = False) -> dict:
        headers = {"ETag": etag_for(instance)}
        warnings = getattr(serializer, "warnings", None) if serializer is not None else None
        if warnings:
            headers["Warning"] = warning_header(warnings)
        if created:
            try:
                headers["Location"] = self.reverse_action("detail", args=[instance.pk])
            except NoReverseMatch:  # pragma: no cover - every router registers a detail
                pass
        return headers


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, restricted to what the user may view."""

    @extend_schema(parameters=[IF_NONE_MATCH])
    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        etag = etag_for(instance)
        if if_none_match_hit(request.headers.get("If-None-Match"), etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(self.get_serializer(instance).data, headers={"ETag": etag})


class ScopedModelViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedReadOnlyViewSet,
):
    """Full CRUD; every write in one transaction, re-checked against the user's scope."""

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            self.perform_create(serializer)
        instance = serializer.instance
        return Response(
            serializer.data,
            status=status.HTTP_201_CREATED,
            headers=self.response_headers(instance, serializer, created=True),
        )

    def perform_create(self, serializer):
        self.apply_change_note(serializer)
        instance = serializer.save()
        self.ensure_in_scope(instance, self.get_required_action(self.request))

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @extend_schema(parameters=[IF_MATCH])
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_locked_object()
            self.check_if_match(instance)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
        return Response(serializer.data, headers=self.response_headers(serializer.instance, serializer))

    def perform_update(self, serializer):
        self.apply_change_note(serializer)
        current = serializer.instance
        if all(getattr(current, field) == value for field, value in serializer.validated_data.items()):
            return  # a retried or repeated write: no new version, no change record, same ETag
        instance = serializer.save()
        self.ensure_in_scope(instance, self.get_required_action(self.request))

    @extend_schema(parameters=[IF_MATCH, *DELETE_NOTE])
    def destroy(self, request, *args, **kwargs):
        note = self.delete_change_note(request)
        with transaction.atomic():
            instance = self.get_locked_object()
            self.check_if_match(instance)
            set_change_message(note.get("changelog_message", ""), note.get("ticket_ref", ""))
            self.perform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @staticmethod
    def delete_change_note(request) -> dict:
        """The DELETE's change note: query string first, a JSON body may add to it."""
        data = {k: request.query_params[k] for k in CHANGE_NOTE_FIELDS if k in request.query_params}
        body = request.data
        if body and not isinstance(body, dict):
            raise exceptions.ValidationError({"body": ["A DELETE body, if any, must be an object."]})
        if body:
            data.update(body)
        note = ChangeNoteQuerySerializer(data=data)
        note.is_valid(raise_exception=True)
        return note.validated_data

