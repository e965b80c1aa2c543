"""The agent's record of each container it plumbed, one JSON file per container id.

Records are what makes teardown safe without the API server: a DEL (or the repair loop) knows
which VLAN id, IP, host veth and MACs a container had, and which other containers hold what.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from .teardown import Claims, TeardownTarget

log = logging.getLogger(__name__)

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


@dataclass(frozen=True)
class PodRecord:
    container_id: str
    ifname: str
    netns: str
    pod_namespace: str
    pod_name: str
    pod_uid: str
    mode: str
    link_kind: str
    vlan_id: int
    branch_mac: str
    pod_ip: str
    subnet_cidr: str
    gateway: str
    eni_id: str
    host_veth: str
    host_veth_mac: str
    pod_mac: str
    trunk: str
    mtu: int
    veth_prefix: str
    created_at: float = 0.0
    released: tuple[str, ...] = field(default=())  # claims handed over to a newer pod

    def to_json(self) -> dict:
        body = asdict(self)
        body["released"] = list(self.released)
        return body

    @classmethod
    def from_json(cls, body: dict) -> PodRecord:
        if not isinstance(body, dict):
            raise ValueError(f"not a JSON object but {type(body).__name__}")
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in body.items() if key in known}
        values["released"] = tuple(values.get("released") or ())
        return cls(**values)

    def target(self) -> TeardownTarget:
        return TeardownTarget(
            container_id=self.container_id,
            vlan_id=self.vlan_id,
            pod_ip=self.pod_ip,
            host_veth=self.host_veth,
            branch_mac=self.branch_mac,
            host_veth_mac=self.host_veth_mac,
        )

    def claims_vlan(self) -> bool:
        return "vlan" not in self.released

    def claims_ip(self) -> bool:
        return "ip" not in self.released

    def claims_host_veth(self) -> bool:
        return "host_veth" not in self.released


def claims_of_others(records: list[PodRecord], container_id: str) -> Claims:
    others = [r for r in records if r.container_id != container_id]
    return Claims(
        vlan_ids=frozenset(r.vlan_id for r in others if r.claims_vlan()),
        pod_ips=frozenset(r.pod_ip for r in others if r.claims_ip()),
        host_veths=frozenset(r.host_veth for r in others if r.claims_host_veth()),
    )


def hand_over(records: list[PodRecord], newer: PodRecord) -> list[PodRecord]:
    """Older records that shared the newer pod's VLAN id, IP or host veth, with those claims
    released: a late DEL of theirs must leave the newer pod's objects alone, and the newer pod's
    own DEL must not see them as someone else's."""
    changed = []
    for record in records:
        if record.container_id == newer.container_id:
            continue
        released = set(record.released)
        if record.vlan_id == newer.vlan_id:
            released.add("vlan")
        if record.pod_ip == newer.pod_ip:
            released.add("ip")
        if record.host_veth == newer.host_veth:
            released.add("host_veth")
        if released != set(record.released):
            changed.append(replace(record, released=tuple(sorted(released))))
    return changed


class RecordStore:
    """Files ``<dir>/<container id>.json``, written atomically, read once.

    The daemon is the only writer while it runs (the plugin writes only when the daemon is
    away), so records are loaded on first use and then served from memory: an ADD must not
    cost a directory scan per pod already on the node.
    """

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, PodRecord] | None = None
        self._unreadable: dict[str, str] = {}  # file name -> why it could not be read

    def _path(self, container_id: str) -> Path:
        if not _SAFE_ID.fullmatch(container_id):
            raise ValueError(f"container id {container_id!r} is not a safe file name")
        return self.directory / f"{container_id}.json"

    def _read(self, path: Path) -> PodRecord | None:
        """The record in ``path``; None, logged and listed in :meth:`unreadable`, when the file
        cannot be read (its pod's claims are then unknown)."""
        try:
            record = PodRecord.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            if self._unreadable.get(path.name) != reason:
                log.warning("record file %s cannot be read, skipped: %s", path.name, reason)
            self._unreadable[path.name] = reason
            return None
        self._unreadable.pop(path.name, None)
        return record

    def _records(self) -> dict[str, PodRecord]:
        if self._cache is None:
            self._cache = {}
            self._unreadable = {}
            if self.directory.is_dir():
                for path in sorted(self.directory.glob("*.json")):
                    record = self._read(path)
                    if record is not None:
                        self._cache[record.container_id] = record
        return self._cache

    def unreadable(self) -> dict[str, str]:
        """Record files that could not be read, by file name, with the reason. Those files are
        read again here (not the whole directory): one repaired or removed meanwhile drops out,
        and a record it now holds is served from then on."""
        records = self._records()
        for name in sorted(self._unreadable):
            path = self.directory / name
            if not path.exists():
                self._unreadable.pop(name, None)
                continue
            record = self._read(path)
            if record is not None:
                records.setdefault(record.container_id, record)
        return dict(self._unreadable)

    def reload(self) -> None:
        self._cache = None

    def get(self, container_id: str) -> PodRecord | None:
        self._path(container_id)
        return self._records().get(container_id)

    def all(self) -> list[PodRecord]:
        return list(self._records().values())

    def put(self, record: PodRecord) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(record.container_id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record.to_json(), sort_keys=True))
        os.replace(tmp, path)
        self._records()[record.container_id] = record
        self._unreadable.pop(path.name, None)

    def remove(self, container_id: str) -> None:
        try:
            self._path(container_id).unlink()
        except FileNotFoundError:
            pass
        self._records().pop(container_id, None)
        self._unreadable.pop(f"{container_id}.json", None)
