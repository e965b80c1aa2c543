"""Label and field selectors as the Kubernetes API server applies them to list and watch.

kmock ignores both; the emulator applies them with these functions. Supported: label selectors
with ``=``, ``==``, ``!=``, ``in (...)``, ``notin (...)``, ``key`` and ``!key``; field selectors
with ``=``, ``==`` and ``!=`` on any dotted path (``metadata.name``, ``spec.nodeName``,
``status.phase``, ...). A missing field compares as the empty string, as on the API server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

_SET_TERM = re.compile(r"^\s*([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQUALITY_TERM = re.compile(r"^\s*([^\s!=]+)\s*(==|=|!=)\s*([^\s]*)\s*$")
_EXISTS_TERM = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*$")


class SelectorError(ValueError):
    """A selector the API server would refuse (HTTP 400)."""


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not inside ``(...)``."""
    terms, depth, current = [], 0, ""
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += char
    terms.append(current)
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Predicate:
    if match := _SET_TERM.match(term):
        key, operator, raw_values = match.groups()
        values = {v.strip() for v in raw_values.split(",") if v.strip()}
        if operator == "in":
            return lambda labels: labels.get(key) in values
        return lambda labels: labels.get(key) not in values
    if match := _EQUALITY_TERM.match(term):
        key, operator, value = match.groups()
        if operator == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _EXISTS_TERM.match(term):
        negated, key = match.groups()
        if negated:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise SelectorError(f"unable to parse requirement: {term.strip()!r}")


def label_selector(selector: str | None) -> Predicate:
    """A predicate over a whole object that checks its ``metadata.labels``."""
    predicates = [_label_term(t) for t in _split_terms(selector or "")]

    def matches(obj: Mapping[str, Any]) -> bool:
        labels = (obj.get("metadata") or {}).get("labels") or {}
        return all(p(labels) for p in predicates)

    return matches


def field_value(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _field_term(term: str) -> Predicate:
    match = _EQUALITY_TERM.match(term)
    if not match:
        raise SelectorError(f"invalid field selector: {term.strip()!r}")
    path, operator, wanted = match.groups()
    if operator == "!=":
        return lambda obj: field_value(obj, path) != wanted
    return lambda obj: field_value(obj, path) == wanted


def field_selector(selector: str | None) -> Predicate:
    predicates = [_field_term(t) for t in _split_terms(selector or "")]
    return lambda obj: all(p(obj) for p in predicates)


def object_selector(labels: str | None, fields: str | None) -> Predicate:
    """Both selectors of a list or watch request, as one predicate."""
    by_labels, by_fields = label_selector(labels), field_selector(fields)
    return lambda obj: by_labels(obj) and by_fields(obj)
