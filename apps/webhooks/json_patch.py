"""JSON Patch (RFC 6902) as a diff between two JSON documents.

Upstream answers a mutation with the diff between the raw object it received and the
object it mutated (controller-runtime's ``PatchResponseFromRaw``, which uses
gomodules' ``jsonpatch.CreatePatch``). We compute the same kind of diff so that the
operations and paths are the ones upstream sends:

- a key only in the new object gives ``add`` of its whole value (so a missing
  ``resources.limits`` map is added whole, a present one gets ``…/limits/<key>``);
- a key only in the old object gives ``remove``;
- two objects are compared key by key, two lists of objects element by element;
- anything else that differs gives ``replace``.

Pure functions over plain JSON values.
"""

from __future__ import annotations

from typing import Any

Operation = dict[str, Any]


def escape_pointer_token(token: str) -> str:
    """One reference token of a JSON Pointer (RFC 6901 §3): ``~`` → ``~0``, ``/`` → ``~1``."""
    return token.replace("~", "~0").replace("/", "~1")


def json_pointer(*tokens: str | int) -> str:
    """The JSON Pointer for a path of keys and list indexes."""
    return "".join("/" + escape_pointer_token(str(token)) for token in tokens)


def diff(old: Any, new: Any, path: str = "") -> list[Operation]:
    """The operations that turn ``old`` into ``new`` (empty when they are equal)."""
    if old is new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return _diff_objects(old, new, path)
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        ops: list[Operation] = []
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            ops.extend(diff(before, after, f"{path}/{index}"))
        return ops
    if _same(old, new):
        return []
    return [{"op": "replace", "path": path, "value": new}]


def _diff_objects(old: dict, new: dict, path: str) -> list[Operation]:
    ops: list[Operation] = []
    for key, value in new.items():
        if key not in old:
            ops.append({"op": "add", "path": f"{path}/{escape_pointer_token(key)}", "value": value})
        elif old[key] is not value:  # shared, untouched subtrees are skipped cheaply
            ops.extend(diff(old[key], value, f"{path}/{escape_pointer_token(key)}"))
    for key in old:
        if key not in new:
            ops.append({"op": "remove", "path": f"{path}/{escape_pointer_token(key)}"})
    return ops


def _same(a: Any, b: Any) -> bool:
    # JSON has no bool/int confusion: true is not 1.
    return type(a) is type(b) and a == b
