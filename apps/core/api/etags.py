"""ETags for API objects and the If-Match / If-None-Match checks.

An object's ETag is its ``version`` when it has one (policies), else its ``updated``
timestamp, so it changes exactly when the object does.
"""

from __future__ import annotations


def etag_for(instance) -> str:
    version = getattr(instance, "version", None)
    if version is not None:
        tag = f"{instance.pk}-v{version}"
    else:
        updated = getattr(instance, "updated", None)
        tag = f"{instance.pk}-t{int(updated.timestamp() * 1_000_000)}" if updated else f"{instance.pk}"
    return f'"{tag}"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part)
    return tags


def if_match_satisfied(header: str | None, current: str) -> bool:
    """True when there is no If-Match header, it is ``*``, or it lists the current ETag."""
    if header is None:
        return True
    tags = _tags(header)
    return "*" in tags or current in tags


def if_none_match_hit(header: str | None, current: str) -> bool:
    """True when the client already has the current representation (answer 304)."""
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or current in tags
