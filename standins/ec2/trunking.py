"""ENI trunking for moto's EC2: what AWS keeps behind an account allow-list, so moto lacks it.

``install()`` extends moto's EC2 response class and backend in place (idempotent); it is the one
entry point for all our moto extensions, so it also installs :mod:`.eni_behaviour` (moto's ENIs
made to behave like EC2's) and :mod:`.eni_permissions` (``CreateNetworkInterfacePermission``).

- ``CreateNetworkInterface`` honours ``InterfaceType`` (``trunk`` among others); the ENI reports
  it in every describe, and the ``interface-type`` filter finds it.
- ``AssociateTrunkInterface``, ``DisassociateTrunkInterface`` and
  ``DescribeTrunkInterfaceAssociations``, with the checks and error codes listed per action.
- Deleting an associated branch ENI (or a trunk, also by instance termination) drops its
  associations instead of failing. EC2 does the same: the upstream controller deleted branches
  without disassociating until 2024 (aws/amazon-vpc-resource-controller-k8s PR #372 kept deletes
  without an association id working), and associations go when a trunk goes.

Setting ``TRUNKING["enabled"] = False`` (control key ``trunking_enabled``) makes
``InterfaceType=trunk`` fail the way it does in an account that is not allow-listed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import (
    EC2ClientError,
    InvalidAssociationIdError,
    MissingParameterError,
)
from moto.ec2.models.elastic_network_interfaces import NetworkInterfaceBackend
from moto.ec2.responses import EC2Response
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces
from moto.ec2.utils import random_resource_id

from standins.ec2 import eni_behaviour, eni_permissions
from standins.ec2.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    NetworkInterfaceInUse,
)

VLAN_ID_MIN = 1
VLAN_ID_MAX = 4094
INTERFACE_TYPES = ("interface", "trunk", "branch", "efa", "efa-only")
DESCRIBE_MAX_RESULTS = (5, 255)

# Run-time switch, flipped through the control surface (``trunking_enabled``).
TRUNKING = {"enabled": True}

# One lock for every association change: the check "VLAN free, branch free" and the insert must
# be atomic, and moto's server is threaded.
_lock = threading.RLock()


@dataclass
class TrunkInterfaceAssociation:
    """One branch ENI carried by a trunk ENI on a VLAN id; field names follow EC2's shape."""

    association_id: str
    branch_interface_id: str
    trunk_interface_id: str
    vlan_id: int
    interface_protocol: str = "VLAN"
    tags: list[dict[str, str]] = field(default_factory=list)

    def matches(self, filters: dict[str, list[str]]) -> bool:
        values = {
            "trunk-interface-association.trunk-interface-id": self.trunk_interface_id,
            "trunk-interface-association.branch-interface-id": self.branch_interface_id,
            "trunk-interface-association.association-id": self.association_id,
            "trunk-interface-association.vlan-id": str(self.vlan_id),
        }
        for name, wanted in filters.items():
            if name not in values:
                raise InvalidParameterValue(f"The filter '{name}' is invalid")
            if values[name] not in wanted:
                return False
        return True


@dataclass
class TrunkingState:
    """Associations of one moto EC2 backend (one account and region)."""

    associations: dict[str, TrunkInterfaceAssociation] = field(default_factory=dict)
    client_tokens: dict[str, str] = field(default_factory=dict)

    def of_branch(self, branch_id: str) -> TrunkInterfaceAssociation | None:
        return next(
            (a for a in self.associations.values() if a.branch_interface_id == branch_id), None
        )

    def vlan_taken(self, trunk_id: str, vlan_id: int) -> bool:
        return any(
            a.trunk_interface_id == trunk_id and a.vlan_id == vlan_id
            for a in self.associations.values()
        )

    def drop_for_eni(self, eni_id: str) -> None:
        for assoc_id, assoc in list(self.associations.items()):
            if eni_id in (assoc.branch_interface_id, assoc.trunk_interface_id):
                del self.associations[assoc_id]


def trunking_state(backend: Any) -> TrunkingState:
    """The association table stored on a moto EC2 backend (created on first use)."""
    with _lock:
        state = backend.__dict__.get("_standin_trunking")
        if state is None:
            state = backend.__dict__["_standin_trunking"] = TrunkingState()
        return state


def new_association_id() -> str:
    return f"trunk-assoc-{random_resource_id(17)}"


# ---- response handlers (installed on EC2Response) -------------------------------------------


def associate_trunk_interface(self: EC2Response) -> ActionResult:
    """Associate a branch ENI with a trunk ENI on a VLAN id, with EC2's validations."""
    branch_id = self._get_param("BranchInterfaceId")
    trunk_id = self._get_param("TrunkInterfaceId")
    vlan_id = self._get_param("VlanId")
    token = self._get_param("ClientToken")
    for name, value in (("BranchInterfaceId", branch_id), ("TrunkInterfaceId", trunk_id)):
        if not value:
            raise MissingParameterError(name)
    if self._get_param("GreKey") is not None:
        raise InvalidParameterValue("GRE trunking is not supported by this stand-in; use VlanId")
    if vlan_id is None:
        raise MissingParameterError("VlanId")
    self.error_on_dryrun()

    backend = self.ec2_backend
    state = trunking_state(backend)
    with _lock:
        if token and token in state.client_tokens:
            known = state.associations.get(state.client_tokens[token])
            if known is not None and (
                known.branch_interface_id,
                known.trunk_interface_id,
                known.vlan_id,
            ) == (branch_id, trunk_id, int(vlan_id)):
                return ActionResult({"InterfaceAssociation": known, "ClientToken": token})
            raise EC2ClientError(
                "IdempotentParameterMismatch",
                "The client token was already used with different parameters",
            )
        branch = backend.get_network_interface(branch_id)
        trunk = backend.get_network_interface(trunk_id)
        vlan_id = int(vlan_id)
        if trunk.interface_type != "trunk":
            raise InvalidParameterValue(
                f"The network interface '{trunk_id}' is not a trunk interface"
            )
        if branch.interface_type == "trunk" or branch_id == trunk_id:
            raise InvalidParameterValue(
                f"The network interface '{branch_id}' cannot be a branch interface"
            )
        if branch.vpc_id != trunk.vpc_id:
            raise InvalidParameterCombination(
                f"The branch interface '{branch_id}' and the trunk interface '{trunk_id}' "
                "are in different VPCs"
            )
        if not VLAN_ID_MIN <= vlan_id <= VLAN_ID_MAX:
            raise InvalidParameterValue(
                f"Invalid value '{vlan_id}' for VlanId; "
                f"it must be from {VLAN_ID_MIN} to {VLAN_ID_MAX}"
            )
        if branch.instance is not None:
            raise NetworkInterfaceInUse(
                f"The network interface '{branch_id}' is attached to an instance"
            )
        existing = state.of_branch(branch_id)
        if existing is not None:
            raise NetworkInterfaceInUse(
                f"The network interface '{branch_id}' is already associated with trunk "
                f"'{existing.trunk_interface_id}' ({existing.association_id})"
            )
        if state.vlan_taken(trunk_id, vlan_id):
            raise InvalidParameterValue(
                f"VLAN id {vlan_id} is already in use on trunk interface '{trunk_id}'"
            )
        assoc = TrunkInterfaceAssociation(new_association_id(), branch_id, trunk_id, vlan_id)
        state.associations[assoc.association_id] = assoc
        if token:
            state.client_tokens[token] = assoc.association_id
    result: dict[str, Any] = {"InterfaceAssociation": assoc}
    if token:
        result["ClientToken"] = token
    return ActionResult(result)


def disassociate_trunk_interface(self: EC2Response) -> ActionResult:
    """Remove one association; an unknown id is ``InvalidAssociationID.NotFound``."""
    assoc_id = self._get_param("AssociationId")
    token = self._get_param("ClientToken")
    if not assoc_id:
        raise MissingParameterError("AssociationId")
    self.error_on_dryrun()
    state = trunking_state(self.ec2_backend)
    with _lock:
        if state.associations.pop(assoc_id, None) is None:
            raise InvalidAssociationIdError(assoc_id)
    result: dict[str, Any] = {"Return": True}
    if token:
        result["ClientToken"] = token
    return ActionResult(result)


def describe_trunk_interface_associations(self: EC2Response) -> ActionResult:
    """List associations by id and filters, paginated with MaxResults (5..255) and NextToken."""
    assoc_ids = self._get_param("AssociationIds", [])
    filters = self._filters_from_querystring()
    max_results = self._get_param("MaxResults")
    next_token = self._get_param("NextToken")
    self.error_on_dryrun()
    if max_results is not None:
        low, high = DESCRIBE_MAX_RESULTS
        if not low <= int(max_results) <= high:
            raise InvalidParameterValue(
                f"Value ( {max_results} ) for parameter maxResults is invalid. "
                f"Expecting a value between {low} and {high}."
            )
    state = trunking_state(self.ec2_backend)
    with _lock:
        found = sorted(state.associations.values(), key=lambda a: a.association_id)
        missing = [i for i in assoc_ids if i not in state.associations]
    if missing:
        raise InvalidAssociationIdError(missing[0])
    if assoc_ids:
        found = [a for a in found if a.association_id in assoc_ids]
    found = [a for a in found if a.matches(filters)]
    start = 0
    if next_token:
        try:
            start = int(next_token)
        except ValueError as exc:
            raise InvalidParameterValue(f"Invalid NextToken '{next_token}'") from exc
    page_size = int(max_results) if max_results is not None else len(found) or 1
    page = found[start : start + page_size]
    result: dict[str, Any] = {"InterfaceAssociations": page}
    if start + page_size < len(found):
        result["NextToken"] = str(start + page_size)
    return ActionResult(result)


# ---- moto's ENI create and delete, extended ---------------------------------------------------

_moto_create_network_interface = ElasticNetworkInterfaces.create_network_interface
_moto_backend_delete = NetworkInterfaceBackend.delete_network_interface


def create_network_interface(self: EC2Response) -> ActionResult:
    """moto's create, plus ``InterfaceType`` (set before the result is serialised)."""
    interface_type = self._get_param("InterfaceType") or "interface"
    if interface_type not in INTERFACE_TYPES:
        raise InvalidParameterValue(f"Invalid value '{interface_type}' for InterfaceType")
    if interface_type == "trunk" and not TRUNKING["enabled"]:
        raise InvalidParameterValue(
            "Invalid value 'trunk' for InterfaceType. Allowed values are ('EFA')"
        )
    result = _moto_create_network_interface(self)
    result.result["NetworkInterface"].interface_type = interface_type  # type: ignore[index]
    return result


def backend_delete_network_interface(self: NetworkInterfaceBackend, eni_id: str) -> None:
    """Deleting an ENI (also by instance termination) drops the associations it takes part in."""
    _moto_backend_delete(self, eni_id)
    trunking_state(self).drop_for_eni(eni_id)


_installed = False


def install() -> None:
    """Patch moto's EC2 classes once per process; safe to call again."""
    global _installed
    if _installed:
        return
    EC2Response.associate_trunk_interface = associate_trunk_interface
    EC2Response.disassociate_trunk_interface = disassociate_trunk_interface
    EC2Response.describe_trunk_interface_associations = describe_trunk_interface_associations
    EC2Response.create_network_interface = create_network_interface
    NetworkInterfaceBackend.delete_network_interface = backend_delete_network_interface
    eni_permissions.install()
    eni_behaviour.install()
    _installed = True
