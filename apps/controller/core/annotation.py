"""The pod annotation ``vpc.amazonaws.com/pod-eni`` (reference §4.4): write and read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KEYS = (
    "eniId", "ifAddress", "privateIp", "ipv6Addr", "vlanId", "subnetCidr", "subnetV6Cidr",
    "associationID",
)
_CANONICAL = {key.lower(): key for key in KEYS}


@dataclass(frozen=True)
class BranchDetails:
    """One branch ENI as the node side needs it."""

    eni_id: str
    mac: str
    private_ip: str
    vlan_id: int
    subnet_cidr: str
    association_id: str
    ipv6_address: str = ""
    subnet_v6_cidr: str = ""

    def as_annotation_entry(self) -> dict[str, Any]:
        """All eight keys, always (upstream has no omitempty)."""
        return {
            "eniId": self.eni_id,
            "ifAddress": self.mac,
            "privateIp": self.private_ip,
            "ipv6Addr": self.ipv6_address,
            "vlanId": self.vlan_id,
            "subnetCidr": self.subnet_cidr,
            "subnetV6Cidr": self.subnet_v6_cidr,
            "associationID": self.association_id,
        }


def render_annotation(branches: list[BranchDetails]) -> str:
    """The annotation value: a compact JSON array, one object per branch ENI."""
    return json.dumps([b.as_annotation_entry() for b in branches], separators=(",", ":"))


class AnnotationError(ValueError):
    pass


def parse_annotation(value: str) -> list[dict[str, Any]]:
    """Entries with canonical key names; keys match case-insensitively, missing ones default."""
    try:
        entries = json.loads(value)
    except (TypeError, ValueError) as exc:
        raise AnnotationError(f"not JSON: {exc}") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise AnnotationError("expected a JSON array of objects")
    parsed = []
    for entry in entries:
        canonical: dict[str, Any] = {key: "" for key in KEYS}
        canonical["vlanId"] = 0
        for key, item in entry.items():
            name = _CANONICAL.get(str(key).lower())
            if name is not None:
                canonical[name] = item
        parsed.append(canonical)
    return parsed
