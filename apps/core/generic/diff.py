"""Side-by-side diffs of change-record snapshots."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DiffRow:
    key: str
    before: str
    after: str
    changed: bool


def _show(value: Any, present: bool) -> str:
    if not present:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True)
    return "" if value is None else str(value)


def diff_rows(before: dict | None, after: dict | None, changed_only: bool = False) -> list[DiffRow]:
    """One row per key of either snapshot, changed keys marked; keys in sorted order."""
    before, after = before or {}, after or {}
    rows = []
    for key in sorted(set(before) | set(after)):
        changed = before.get(key) != after.get(key) or (key in before) != (key in after)
        if changed_only and not changed:
            continue
        rows.append(
            DiffRow(
                key,
                _show(before.get(key), key in before),
                _show(after.get(key), key in after),
                changed,
            )
        )
    return rows


def attach_diffs(records, changed_only: bool = False) -> list:
    """Give each change record a ``diff`` attribute for the templates."""
    records = list(records)
    for record in records:
        record.diff = diff_rows(record.before, record.after, changed_only)
    return records
