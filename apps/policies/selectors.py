"""Kubernetes label selector semantics (metav1.LabelSelector), as pure functions.

A selector is the CRD's plain dict: ``{"matchLabels": {...}, "matchExpressions": [...]}``.
``None`` (absent) matches nothing; ``{}`` matches everything; all terms are ANDed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
_PREFIX = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_KEY_RE = re.compile(rf"^(?:(?P<prefix>{_PREFIX})/)?(?P<name>{_NAME})$")
_VALUE_RE = re.compile(rf"^(?:{_NAME})?$")


class InvalidSelector(ValueError):
    """A selector that Kubernetes would refuse to convert; carries a field path."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def label_key_error(key: Any) -> str | None:
    """Why ``key`` is not a valid label key, or None."""
    if not isinstance(key, str) or not key:
        return "a label key must be a non-empty string"
    match = _KEY_RE.fullmatch(key)
    if not match:
        return (
            f"{key!r} is not a valid label key: an optional DNS subdomain prefix and '/', then "
            "a name of up to 63 characters of alphanumerics, '-', '_' or '.', starting and "
            "ending with an alphanumeric"
        )
    if match.group("prefix") and len(match.group("prefix")) > 253:
        return f"{key!r}: the prefix must be at most 253 characters"
    return None


def label_value_error(value: Any) -> str | None:
    """Why ``value`` is not a valid label value, or None."""
    if not isinstance(value, str):
        return "a label value must be a string"
    if len(value) > 63 or not _VALUE_RE.fullmatch(value):
        return (
            f"{value!r} is not a valid label value: at most 63 characters of alphanumerics, "
            "'-', '_' or '.', starting and ending with an alphanumeric (or empty)"
        )
    return None


def selector_errors(
    selector: Any, path: str, *, reject_unknown_fields: bool = True
) -> list[InvalidSelector]:
    """Every reason ``selector`` is invalid, each with its field path (empty: valid).

    With ``reject_unknown_fields=False`` only the problems that make Kubernetes' own
    conversion (``LabelSelectorAsSelector``) fail are reported: the API server prunes
    unknown fields, so they never change what a selector matches.
    """
    if selector is None:
        return []
    if not isinstance(selector, Mapping):
        return [InvalidSelector(path, "a label selector must be an object")]
    errors: list[InvalidSelector] = []
    if reject_unknown_fields:
        unknown = set(selector) - {"matchLabels", "matchExpressions"}
        for key in sorted(unknown):
            errors.append(InvalidSelector(f"{path}.{key}", "unknown field"))
    labels = selector.get("matchLabels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            errors.append(InvalidSelector(f"{path}.matchLabels", "must be an object of key: value"))
        else:
            for key, value in labels.items():
                if (problem := label_key_error(key)) is not None:
                    errors.append(InvalidSelector(f"{path}.matchLabels", problem))
                if (problem := label_value_error(value)) is not None:
                    errors.append(InvalidSelector(f"{path}.matchLabels.{key}", problem))
    expressions = selector.get("matchExpressions")
    if expressions is not None:
        if not isinstance(expressions, list):
            errors.append(InvalidSelector(f"{path}.matchExpressions", "must be a list"))
        else:
            for index, expression in enumerate(expressions):
                errors.extend(
                    _expression_errors(
                        expression,
                        f"{path}.matchExpressions[{index}]",
                        reject_unknown_fields=reject_unknown_fields,
                    )
                )
    return errors


def _expression_errors(
    expression: Any, path: str, *, reject_unknown_fields: bool
) -> list[InvalidSelector]:
    if not isinstance(expression, Mapping):
        return [InvalidSelector(path, "must be an object with key, operator and values")]
    errors: list[InvalidSelector] = []
    if reject_unknown_fields:
        errors.extend(
            InvalidSelector(f"{path}.{k}", "unknown field")
            for k in sorted(set(expression) - {"key", "operator", "values"})
        )
    if (problem := label_key_error(expression.get("key"))) is not None:
        errors.append(InvalidSelector(f"{path}.key", problem))
    operator = expression.get("operator")
    values = expression.get("values")
    if operator not in OPERATORS:
        errors.append(
            InvalidSelector(
                f"{path}.operator", f"{operator!r} is not one of {', '.join(OPERATORS)}"
            )
        )
    if values is not None and not isinstance(values, list):
        errors.append(InvalidSelector(f"{path}.values", "must be a list of strings"))
        return errors
    if operator in ("In", "NotIn") and not values:
        errors.append(InvalidSelector(f"{path}.values", f"{operator} needs at least one value"))
    elif operator in ("Exists", "DoesNotExist") and values:
        errors.append(InvalidSelector(f"{path}.values", f"{operator} takes no values"))
    for i, value in enumerate(values or []):
        if (problem := label_value_error(value)) is not None:
            errors.append(InvalidSelector(f"{path}.values[{i}]", problem))
    return errors


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Does ``selector`` select an object with ``labels``?

    Absent (None) matches nothing; ``{}`` matches everything. An invalid selector
    matches nothing, as upstream treats a conversion error as "not matched".
    """
    if selector is None:
        return False
    if selector_errors(selector, "selector", reject_unknown_fields=False):
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        if not _expression_matches(expression, labels):
            return False
    return True


def _expression_matches(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = expression["key"], expression["operator"]
    values = expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    return key not in labels  # DoesNotExist
