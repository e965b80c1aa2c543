"""Find the trunk among an instance's ENIs, or where to attach a new one (reference §3.3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import InstanceInterface


class TrunkPlanError(Exception):
    """The instance's state does not allow a decision now (retry later)."""


@dataclass(frozen=True)
class UseTrunk:
    eni_id: str
    attached: bool


@dataclass(frozen=True)
class CreateTrunk:
    device_index: int


def plan_trunk(interfaces: Sequence[InstanceInterface], device_slots: int) -> UseTrunk | CreateTrunk:
    """The existing trunk (by ``InterfaceType``), else a new one at the highest free index."""
    if any(i.interface_type is None for i in interfaces):
        raise TrunkPlanError("an interface has no type: the instance is probably terminating")
    for interface in interfaces:
        if interface.interface_type == "trunk":
            return UseTrunk(interface.eni_id, interface.attachment_status == "attached")
    used = {i.device_index for i in interfaces}
    for index in range(device_slots - 1, -1, -1):
        if index not in used:
            return CreateTrunk(index)
    raise TrunkPlanError(f"no free device index among {device_slots} slots")


def primary_interface(
    interfaces: Sequence[InstanceInterface], instance_private_ip: str
) -> InstanceInterface | None:
    """The ENI whose private IP is the instance's; its groups are the instance's groups."""
    for interface in interfaces:
        if interface.private_ip == instance_private_ip:
            return interface
    return next((i for i in interfaces if i.device_index == 0), None)
