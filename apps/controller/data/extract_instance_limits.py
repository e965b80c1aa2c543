"""Regenerate ``instance_limits.csv`` from upstream's generated ``pkg/aws/vpc/limits.go``.

Usage (from a checkout or a bare mirror of aws/amazon-vpc-resource-controller-k8s)::

    git --git-dir <mirror> show HEAD:pkg/aws/vpc/limits.go \
        | python apps/controller/data/extract_instance_limits.py > apps/controller/data/instance_limits.csv

Only numbers and flags are carried over (they are facts about EC2 instance types); the
per-card detail is reduced to the default card's interface count, which is all the trunk
placement needs.
"""

from __future__ import annotations

import csv
import re
import sys

ENTRY = re.compile(r'^\t"(?P<type>[a-z0-9.\-]+)": \{$')
FIELD = re.compile(r"^\t\t(?P<name>\w+):\s+(?P<value>[^,]+),$")
CARD_FIELD = re.compile(r"^\t+(?P<name>MaximumNetworkInterfaces|NetworkCardIndex):\s+(?P<value>\d+),$")

COLUMNS = [
    "instance_type", "max_enis", "ipv4_per_eni", "trunking", "branch_enis",
    "default_card_max_enis", "hypervisor", "bare_metal",
]


def parse(lines):
    rows = []
    current = None
    card: dict[str, int] = {}
    cards: list[dict[str, int]] = []
    for line in lines:
        line = line.rstrip("\n")
        if match := ENTRY.match(line):
            current = {"instance_type": match["type"]}
            cards = []
            continue
        if current is None:
            continue
        if match := CARD_FIELD.match(line):
            card[match["name"]] = int(match["value"])
            if len(card) == 2:
                cards.append(card)
                card = {}
            continue
        if match := FIELD.match(line):
            current[match["name"]] = match["value"].strip('"')
            continue
        if line == "\t},":
            default_index = int(current.get("DefaultNetworkCardIndex", 0))
            default = next(c for c in cards if c["NetworkCardIndex"] == default_index)
            rows.append({
                "instance_type": current["instance_type"],
                "max_enis": int(current["Interface"]),
                "ipv4_per_eni": int(current["IPv4PerInterface"]),
                "trunking": current["IsTrunkingCompatible"] == "true",
                "branch_enis": int(current["BranchInterface"]),
                "default_card_max_enis": default["MaximumNetworkInterfaces"],
                "hypervisor": current.get("Hypervisor", ""),
                "bare_metal": current.get("IsBareMetal") == "true",
            })
            current = None
    return rows


def main() -> None:
    rows = sorted(parse(sys.stdin), key=lambda r: r["instance_type"])
    writer = csv.DictWriter(sys.stdout, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "trunking": str(row["trunking"]).lower(),
                         "bare_metal": str(row["bare_metal"]).lower()})


if __name__ == "__main__":
    main()
