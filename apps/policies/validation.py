"""Validation of a SecurityGroupPolicy, with field-level errors and warnings.

Stricter than the CRD (which accepts an empty spec and any string as a group id) on
purpose: a policy that upstream would silently ignore, or that would only fail later at
EC2 CreateNetworkInterface, is refused here with a message that says why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .selectors import selector_errors

DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
GROUP_ID_RE = re.compile(r"^sg-([0-9a-f]{8}|[0-9a-f]{17})$")
MAX_GROUPS = 16  # EC2's hard ceiling of security groups per network interface
DEFAULT_GROUP_QUOTA = 5  # EC2's default quota of security groups per network interface
SPEC_FIELDS = ("podSelector", "serviceAccountSelector", "securityGroups")


@dataclass
class ValidationReport:
    errors: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def error(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def warn(self, path: str, message: str) -> None:
        self.warnings.setdefault(path, []).append(message)

    @property
    def ok(self) -> bool:
        return not self.errors


def dns_label_error(value: Any, what: str) -> str | None:
    if not isinstance(value, str) or not DNS_LABEL_RE.fullmatch(value):
        return (
            f"{what} must be a DNS-1123 label: 1-63 lower-case letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
    return None


def validate_spec(
    spec: Any, report: ValidationReport | None = None, prefix: str = "spec"
) -> ValidationReport:
    report = report or ValidationReport()
    if not isinstance(spec, Mapping):
        report.error(prefix, "spec must be an object")
        return report
    for key in sorted(set(spec) - set(SPEC_FIELDS)):
        report.error(f"{prefix}.{key}", f"unknown field; a spec has only {', '.join(SPEC_FIELDS)}")
    for name in ("podSelector", "serviceAccountSelector"):
        for problem in selector_errors(spec.get(name), f"{prefix}.{name}"):
            report.error(problem.path, problem.message)
    if spec.get("podSelector") is None and spec.get("serviceAccountSelector") is None:
        report.error(
            prefix,
            "a policy needs a podSelector or a serviceAccountSelector (use {} to select "
            "every pod in the namespace); with neither it would match nothing",
        )
    _validate_groups(spec.get("securityGroups"), report, f"{prefix}.securityGroups")
    return report


def _validate_groups(groups: Any, report: ValidationReport, path: str) -> None:
    if not isinstance(groups, Mapping):
        report.error(path, "securityGroups must be an object with groupIds")
        return
    for key in sorted(set(groups) - {"groupIds"}):
        report.error(f"{path}.{key}", "unknown field; securityGroups has only groupIds")
    ids = groups.get("groupIds")
    ids_path = f"{path}.groupIds"
    if not isinstance(ids, list) or not ids:
        report.error(ids_path, "list at least one security group id")
        return
    if len(ids) > MAX_GROUPS:
        report.error(ids_path, f"at most {MAX_GROUPS} security groups fit on a network interface")
    seen: set[str] = set()
    for index, group in enumerate(ids):
        if not isinstance(group, str) or not GROUP_ID_RE.fullmatch(group):
            report.error(
                f"{ids_path}[{index}]",
                f"{group!r} is not a security group id (sg- and 8 or 17 lower-case hex digits)",
            )
            continue
        if group in seen:
            report.error(f"{ids_path}[{index}]", f"{group} is listed twice")
        seen.add(group)
    if DEFAULT_GROUP_QUOTA < len(ids) <= MAX_GROUPS:
        report.warn(
            ids_path,
            f"{len(ids)} groups exceed EC2's default quota of {DEFAULT_GROUP_QUOTA} per network "
            "interface; branch ENI creation fails unless the account's quota was raised",
        )


def validate_policy(namespace: Any, name: Any, spec: Any) -> ValidationReport:
    report = ValidationReport()
    if (problem := dns_label_error(namespace, "namespace")) is not None:
        report.error("namespace", problem)
    if (problem := dns_label_error(name, "name")) is not None:
        report.error("name", problem)
    validate_spec(spec, report)
    return report
