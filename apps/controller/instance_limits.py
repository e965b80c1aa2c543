"""The instance limits table: shipped as data, extendable without a release.

The shipped table is ``data/instance_limits.csv`` (extracted from upstream's generated
``pkg/aws/vpc/limits.go`` by ``data/extract_instance_limits.py``). Setting
``SGPADMIN_INSTANCE_LIMITS_FILE`` to a CSV file with the same columns adds rows or replaces
shipped ones, per instance type; see docs/instance-limits.md.
"""

from __future__ import annotations

import csv
import functools
import os
from collections.abc import Iterable
from pathlib import Path

from apps.controller.core.model import InstanceLimit

SHIPPED_TABLE = Path(__file__).resolve().parent / "data" / "instance_limits.csv"
OVERRIDE_ENV = "SGPADMIN_INSTANCE_LIMITS_FILE"
REQUIRED_COLUMNS = ("instance_type", "max_enis", "trunking", "branch_enis")


class InstanceLimitsError(ValueError):
    pass


def _flag(value: str) -> bool:
    return value.strip().lower() in {"true", "yes", "1"}


def parse_rows(rows: Iterable[dict[str, str]], source: str) -> dict[str, InstanceLimit]:
    """Rows of the CSV as limits by instance type; a malformed row names its line."""
    table: dict[str, InstanceLimit] = {}
    for line, row in enumerate(rows, start=2):
        missing = [c for c in REQUIRED_COLUMNS if not (row.get(c) or "").strip()]
        if missing:
            raise InstanceLimitsError(f"{source}:{line}: missing {', '.join(missing)}")
        try:
            max_enis = int(row["max_enis"])
            limit = InstanceLimit(
                instance_type=row["instance_type"].strip(),
                max_enis=max_enis,
                ipv4_per_eni=int(row.get("ipv4_per_eni") or 0),
                trunking=_flag(row["trunking"]),
                branch_enis=int(row["branch_enis"]),
                default_card_max_enis=int(row.get("default_card_max_enis") or max_enis),
                hypervisor=(row.get("hypervisor") or "").strip(),
                bare_metal=_flag(row.get("bare_metal") or ""),
            )
        except ValueError as exc:
            raise InstanceLimitsError(f"{source}:{line}: {exc}") from exc
        if limit.trunking and limit.branch_enis <= 0:
            raise InstanceLimitsError(f"{source}:{line}: a trunking type needs branch_enis > 0")
        table[limit.instance_type] = limit
    return table


def read_table(path: Path) -> dict[str, InstanceLimit]:
    with open(path, newline="") as handle:
        return parse_rows(csv.DictReader(handle), str(path))


@functools.cache
def _load(override: str) -> dict[str, InstanceLimit]:
    table = read_table(SHIPPED_TABLE)
    if override:
        table.update(read_table(Path(override)))
    return table


def instance_limits() -> dict[str, InstanceLimit]:
    """The shipped table updated with the override file's rows (read once per path)."""
    return _load(os.environ.get(OVERRIDE_ENV, ""))


def limit_for(instance_type: str) -> InstanceLimit | None:
    return instance_limits().get(instance_type)
