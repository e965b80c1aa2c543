"""Applying PATCH bodies as the API server does, by content type.

- ``application/json-patch+json``: RFC 6902 (``jsonpatch``), a failed ``test`` is HTTP 422.
- ``application/merge-patch+json``: RFC 7386 (``null`` removes a key, lists are replaced).
- ``application/strategic-merge-patch+json``: built-in kinds only (custom resources answer 415,
  as the API server does). Merge patch, plus the merge keys that matter here: lists of
  ``conditions``/``addresses`` merge by ``type``; ``containers``, ``initContainers``,
  ``volumes``, ``env`` by ``name``; ``ownerReferences`` by ``uid``; ``finalizers`` as a set.
  Directives (``$patch``, ``$retainKeys``, ``$deleteFromPrimitiveList``) are not supported.
- server-side apply (``application/apply-patch+yaml``) answers 415.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

MERGE_KEYS = {
    "conditions": "type",
    "addresses": "type",
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "ownerReferences": "uid",
}
SET_LISTS = {"finalizers"}

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"


class PatchError(Exception):
    """A patch the API server would refuse; ``status`` is the HTTP status it would answer."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _merge_list_by_key(current: list, patch: list, key: str) -> list:
    result = [copy.deepcopy(item) for item in current]
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            result.append(copy.deepcopy(item))
            continue
        for index, existing in enumerate(result):
            if isinstance(existing, dict) and existing.get(key) == item[key]:
                result[index] = strategic_merge_patch(existing, item)
                break
        else:
            result.append(copy.deepcopy(item))
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            raise PatchError(422, "Invalid", f"strategic merge directive {key} is not supported")
        current = result.get(key)
        if value is None:
            result.pop(key, None)
        elif key in MERGE_KEYS and isinstance(value, list) and isinstance(current, list):
            result[key] = _merge_list_by_key(current, value, MERGE_KEYS[key])
        elif key in SET_LISTS and isinstance(value, list) and isinstance(current, list):
            result[key] = current + [v for v in value if v not in current]
        else:
            result[key] = strategic_merge_patch(current, value)
    return result


def apply_patch(
    current: dict[str, Any], body: Any, content_type: str, builtin_kind: bool
) -> dict[str, Any]:
    """The patched object (a new dict); raises :class:`PatchError` as the API server would."""
    content_type = (content_type or "").split(";")[0].strip().lower()
    if content_type == JSON_PATCH:
        if not isinstance(body, list):
            raise PatchError(400, "BadRequest", "a JSON patch must be a list of operations")
        try:
            return jsonpatch.apply_patch(copy.deepcopy(current), body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise PatchError(422, "Invalid", f"the JSON patch failed: {exc}") from exc
    if content_type == MERGE_PATCH:
        return _as_object(merge_patch(current, _as_dict(body)))
    if content_type == STRATEGIC_MERGE_PATCH:
        if not builtin_kind:
            raise PatchError(
                415,
                "UnsupportedMediaType",
                "strategic merge patch is not supported for custom resources; "
                "use application/merge-patch+json",
            )
        return _as_object(strategic_merge_patch(current, _as_dict(body)))
    raise PatchError(
        415,
        "UnsupportedMediaType",
        f"the patch content type {content_type!r} is not supported by the stand-in",
    )


def _as_dict(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise PatchError(400, "BadRequest", "a merge patch must be a JSON object")
    return body


def _as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
