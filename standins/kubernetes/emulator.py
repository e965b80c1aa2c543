"""kmock's ``KubernetesEmulator`` with what the API server does and kmock leaves out.

kmock 0.8 serves discovery, errors, fetch and stores objects (``emulator.objects[...]`` keeps
working for assertions). This subclass takes over the write path, list and watch:

- create fills ``metadata.uid``, ``resourceVersion``, ``creationTimestamp``, ``generation``,
  ``namespace`` (from the URL), ``apiVersion``/``kind``, a name from ``generateName``, and
  ``status.phase=Pending`` for pods; an existing name is 409 ``AlreadyExists``;
- every write bumps one monotonic resource version and logs one watch event; a write that
  changes nothing changes no version and sends no event;
- PATCH by content type (see :mod:`.patches`), PUT (replace), optimistic concurrency (a stale
  ``metadata.resourceVersion`` in a patch or replace is 409 ``Conflict``), immutable
  ``uid``/``name``/``namespace``/``creationTimestamp``;
- the ``status`` subresource of pods, nodes and namespaces: writes to ``.../status`` change only
  the status, writes to the object keep the status (as the API server does);
- DELETE with finalizers sets ``deletionTimestamp``; the object goes when the last finalizer
  is removed; ``preconditions`` (uid, resourceVersion) are checked. No graceful pod deletion:
  a pod without finalizers is gone at once;
- ``POST pods/<name>/binding`` sets ``spec.nodeName`` (the scheduler's call);
- list and watch honour label and field selectors, ``limit``/``continue``, and the watch
  semantics in :mod:`.watching`.

Failures can be injected for error-path tests (:mod:`.failures`), in-process or over HTTP.

Not done (as DESIGN §5 expects): admission webhooks, server-side apply, namespace existence
checks and cascading deletion, defaulting beyond the above. Lenient where tests benefit: a
create keeps the ``status`` it is given (the API server would reset it), so a scenario can
create a running pod in one call. kmock's own reactions (``emulator[...] << ...``) still
answer reads; writes are always served by this class (use :mod:`.failures` to fail them).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import datetime
import json
import secrets
import string
import time
import uuid
from typing import Any

import aiohttp.web
import attrs
import kmock
from kmock._internal import apps

from standins.kubernetes import patches, watching
from standins.kubernetes.errors import api_error
from standins.kubernetes.failures import (
    CONTROL_PREFIX,
    InjectedFailure,
    InjectedFailures,
    take_failure,
)
from standins.kubernetes.listing import ListAndWatch
from standins.kubernetes.resources import (
    INITIAL_NAMESPACES,
    SERVED_RESOURCES,
    ServedResource,
    install_namespace_paths,
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def now_rfc3339() -> str:
    return datetime.datetime.now(tz=datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.define(kw_only=True)
class KubeApiEmulator(ListAndWatch, InjectedFailures, kmock.KubernetesEmulator):
    """The stateful Kubernetes API of the stand-in (see the module docstring)."""

    extra_resources: tuple[ServedResource, ...] = ()
    watch_history: int = 10_000  # events kept for resuming watches; older ones answer 410
    object_history: int = 5  # versions kept per object in ``objects[...].history``
    # Requests kept for assertions (kmock alone keeps all). Every request scans this log, so
    # a long one makes each call slow under load (1-10 s per GET at 1,000 pods with 2,000).
    request_log: int = 100

    _served: dict[str, ServedResource] = attrs.field(factory=dict, init=False)
    # Starts from the clock (ms), so versions seen on an earlier stand-in (say, on the same port
    # before a restart) are never valid here: they answer 410 Gone instead of silence.
    _revision: int = attrs.field(factory=lambda: time.time_ns() // 1_000_000, init=False)
    _events: collections.deque = attrs.field(factory=collections.deque, init=False)
    _changed: asyncio.Condition = attrs.field(factory=asyncio.Condition, init=False)
    _wakers: set = attrs.field(factory=set, init=False)
    _closing: bool = attrs.field(default=False, init=False)
    _failures: list[InjectedFailure] = attrs.field(factory=list, init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        install_namespace_paths()
        self.fallback["get /apis/"] << self._serve_apis  # the official client asks with a slash
        self.fallback["get /api/"] << self._serve_api
        for served in (*SERVED_RESOURCES, *self.extra_resources):
            self.serve(served)
        self.reset()

    def serve(self, served: ServedResource) -> None:
        """Declare a resource for discovery, list, watch and writes."""
        self._served[served.key] = served
        info = self.resources[served.key]
        info.kind, info.namespaced, info.singular = (
            served.kind,
            served.namespaced,
            served.kind.lower(),
        )
        info.verbs = {"get", "list", "watch", "create", "update", "patch", "delete"}
        info.shortnames = set(served.short_names)
        info.subresources = set(served.subresources)

    def reset(self) -> None:
        """Forget every object (back to the initial namespaces) and injected failure. Resource
        versions keep counting up, and watches resuming from before the reset get 410 Gone."""
        self._failures.clear()
        for key in list(self._objects):
            del self._objects[key]
        self._events.clear()
        self._revision += 1  # a gap in the log: any watch from before the reset gets 410 Gone
        namespaces = self._served["v1/namespaces"]
        for name in INITIAL_NAMESPACES:
            self._create(namespaces, None, {"metadata": {"name": name}})
        try:
            task = asyncio.get_running_loop().create_task(self._wake_watchers())
            self._wakers.add(task)  # keep a reference until done (asyncio holds only weak ones)
            task.add_done_callback(self._wakers.discard)
        except RuntimeError:
            pass  # no loop yet (construction outside the server): nobody is watching

    async def close_watches(self) -> None:
        """End every watch stream now (the server cannot stop while one is open)."""
        self._closing = True
        await self._wake_watchers()

    async def _wake_watchers(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    @property
    def revision(self) -> int:
        """The latest resource version handed out."""
        return self._revision

    # ---- the write path ------------------------------------------------------------------------

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        self._forget_old_requests()
        if request.url.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        failure = take_failure(self._failures, request.method.value, request.url.path)
        if failure is not None:
            raise api_error(failure.status, failure.reason, failure.message)
        if request.resource is None or request.method.value not in WRITE_METHODS:
            return await apps.RawHandler._handle(self, request)
        # Writes are answered here, not through kmock's reactions: the official client needs
        # 201 on create (it reads nothing from a 200), which kmock's fallbacks cannot send.
        served = self._served_for(request)
        async with self._lock:
            result = self._write(served, request)
        await self._wake_watchers()
        created = request.method.value == "POST"
        return aiohttp.web.json_response(result, status=201 if created else 200)

    def _write(self, served: ServedResource, request: kmock.Request) -> Any:
        method, name, sub = request.method.value, request.name, request.subresource
        body = json.loads(request.body) if request.body else None
        if method == "POST" and name is None:
            return self._create(served, request.namespace, body)
        if method == "POST" and sub == "binding" and served.plural == "pods":
            return self._bind(served, request.namespace, name, body)
        if name is not None and method == "PATCH" and sub in (None, "status"):
            return self._patch(served, request, body)
        if name is not None and method == "PUT" and sub in (None, "status"):
            return self._replace(served, request.namespace, name, sub, body)
        if name is not None and method == "DELETE" and sub is None:
            return self._delete(served, request.namespace, name, body)
        raise api_error(405, "MethodNotAllowed", f"{method} {request.url.path} is not supported")

    def _create(self, served: ServedResource, namespace: str | None, body: Any) -> dict:
        if not isinstance(body, dict):
            raise api_error(400, "BadRequest", "the body must be a JSON object")
        obj = copy.deepcopy(body)
        meta = obj.setdefault("metadata", {})
        if served.namespaced:
            if meta.get("namespace") and namespace and meta["namespace"] != namespace:
                raise api_error(
                    400,
                    "BadRequest",
                    "the namespace of the provided object does "
                    "not match the namespace sent on the request",
                )
            meta["namespace"] = namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        if not meta.get("name") and meta.get("generateName"):
            alphabet = string.ascii_lowercase + string.digits
            meta["name"] = meta["generateName"] + "".join(
                secrets.choice(alphabet) for _ in range(5)
            )
        if not meta.get("name"):
            raise api_error(422, "Invalid", "metadata.name or metadata.generateName is required")
        key = self._key(served, meta.get("namespace"), meta["name"])
        if self._current(key) is not None:
            raise api_error(
                409, "AlreadyExists", f'{served.plural} "{meta["name"]}" already exists'
            )
        meta.update(
            uid=str(uuid.uuid4()),
            creationTimestamp=now_rfc3339(),
            generation=1,
            resourceVersion=str(self._next_revision()),
        )
        for transient in ("deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(transient, None)
        obj.setdefault("apiVersion", served.api_version)
        obj.setdefault("kind", served.kind)
        if served.plural == "pods":
            obj.setdefault("status", {}).setdefault("phase", "Pending")
        if key in self._objects:
            self._objects[key].create(obj)
        else:
            self._objects[key] = obj
        self._record(served, "ADDED", obj, None)
        return obj

    def _patch(self, served: ServedResource, request: kmock.Request, body: Any) -> dict:
        key = self._key(served, request.namespace, request.name)
        current = self._require(served, key)
        content_type = request.headers.get("Content-Type", "")
        try:
            patched = patches.apply_patch(current, body, content_type, served.is_builtin)
        except patches.PatchError as exc:
            raise api_error(exc.status, exc.reason, exc.message) from exc
        if isinstance(body, dict):
            self._check_version((body.get("metadata") or {}).get("resourceVersion"), current)
        return self._update(served, key, current, patched, request.subresource)

    def _replace(
        self,
        served: ServedResource,
        namespace: str | None,
        name: str,
        subresource: str | None,
        body: Any,
    ) -> dict:
        if not isinstance(body, dict):
            raise api_error(400, "BadRequest", "the body must be a JSON object")
        if (body.get("metadata") or {}).get("name") != name:
            raise api_error(400, "BadRequest", "the name of the object does not match the URL")
        key = self._key(served, namespace, name)
        current = self._require(served, key)
        self._check_version(body["metadata"].get("resourceVersion"), current)
        return self._update(served, key, current, copy.deepcopy(body), subresource)

    def _update(
        self, served: ServedResource, key: tuple, current: dict, new: dict, subresource: str | None
    ) -> dict:
        if "status" in served.subresources:
            if subresource == "status":
                new = {**copy.deepcopy(current), "status": new.get("status")}
            else:
                new["status"] = copy.deepcopy(current.get("status"))
            if new["status"] is None:
                del new["status"]
        meta, old_meta = new.setdefault("metadata", {}), current.get("metadata", {})
        for fixed in (
            "uid",
            "name",
            "namespace",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "resourceVersion",
        ):
            if fixed in old_meta:
                meta[fixed] = old_meta[fixed]
            else:
                meta.pop(fixed, None)
        if new == current:
            return current
        if new.get("spec") != current.get("spec"):
            meta["generation"] = int(old_meta.get("generation", 1)) + 1
        meta["resourceVersion"] = str(self._next_revision())
        self._store(key, new)
        self._record(served, "MODIFIED", new, current)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            return self._remove(served, key, new)
        return new

    def _delete(self, served: ServedResource, namespace: str | None, name: str, body: Any) -> dict:
        key = self._key(served, namespace, name)
        current = self._require(served, key)
        preconditions = (body or {}).get("preconditions") or {}
        meta = current.get("metadata", {})
        if preconditions.get("uid") and preconditions["uid"] != meta.get("uid"):
            raise api_error(
                409,
                "Conflict",
                f"Precondition failed: UID in precondition: "
                f"{preconditions['uid']}, UID in object meta: {meta.get('uid')}",
            )
        self._check_version(preconditions.get("resourceVersion"), current)
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp"):
                return current
            marked = copy.deepcopy(current)
            marked["metadata"].update(
                deletionTimestamp=now_rfc3339(),
                deletionGracePeriodSeconds=0,
                resourceVersion=str(self._next_revision()),
            )
            self._store(key, marked)
            self._record(served, "MODIFIED", marked, current)
            return marked
        return self._remove(served, key, current)

    def _remove(self, served: ServedResource, key: tuple, current: dict) -> dict:
        final = copy.deepcopy(current)
        final["metadata"]["resourceVersion"] = str(self._next_revision())
        self._store(key, final)
        self._objects[key].delete()
        self._record(served, "DELETED", final, current)
        return final

    def _bind(self, served: ServedResource, namespace: str | None, name: str, body: Any) -> Any:
        key = self._key(served, namespace, name)
        current = self._require(served, key)
        node = ((body or {}).get("target") or {}).get("name")
        if not node:
            raise api_error(400, "BadRequest", "a binding needs target.name")
        if (current.get("spec") or {}).get("nodeName"):
            raise api_error(409, "Conflict", f'pod "{name}" is already assigned to a node')
        bound = copy.deepcopy(current)
        bound.setdefault("spec", {})["nodeName"] = node
        self._update(served, key, current, bound, None)
        return body

    # ---- helpers -------------------------------------------------------------------------------

    def _served_for(self, request: kmock.Request) -> ServedResource:
        res = request.resource
        key = (
            f"{res.group}/{res.version}/{res.plural}"
            if res.group
            else f"{res.version}/{res.plural}"
        )
        if key not in self._served:
            raise api_error(404, "NotFound", f"the server could not find the resource {key}")
        return self._served[key]

    def _key(self, served: ServedResource, namespace: str | None, name: str) -> tuple:
        resource = kmock.resource(served.group, served.version, served.plural)
        return resource, namespace if served.namespaced else None, name

    def _current(self, key: tuple) -> dict | None:
        if key not in self._objects or self._objects[key].deleted:
            return None
        return copy.deepcopy(self._objects[key].raw)

    def _require(self, served: ServedResource, key: tuple) -> dict:
        current = self._current(key)
        if current is None:
            raise api_error(404, "NotFound", f'{served.plural} "{key[2]}" not found')
        return current

    @staticmethod
    def _check_version(wanted: str | None, current: dict) -> None:
        actual = current.get("metadata", {}).get("resourceVersion")
        if wanted and wanted != actual:
            name = current.get("metadata", {}).get("name")
            raise api_error(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on "{name}": the '
                "object has been modified; please apply your changes to the latest "
                "version and try again",
            )

    def _store(self, key: tuple, obj: dict) -> None:
        history = self._objects[key].history
        history.append(obj)
        if len(history) > max(2, self.object_history):
            del history[: len(history) - max(2, self.object_history)]

    def _next_revision(self) -> int:
        self._revision += 1
        return self._revision

    def _record(self, served: ServedResource, kind: str, obj: dict, previous: dict | None) -> None:
        self._events.append(
            watching.WatchEvent(self._revision, served.key, kind, copy.deepcopy(obj), previous)
        )
        while len(self._events) > self.watch_history:
            self._events.popleft()

    def _forget_old_requests(self) -> None:
        if len(self._requests) > 2 * self.request_log:
            del self._requests[: -self.request_log]
            for payload in self._payloads:
                del payload._requests[: -self.request_log]
        if self._errors and len(self._errors[-1]) > self.request_log:
            del self._errors[-1][: -self.request_log // 2]  # kmock keeps every error served
