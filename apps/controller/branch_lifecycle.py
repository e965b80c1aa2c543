"""Branch ENI rows and their EC2 side: reserve a VLAN, create + associate, discard.

State machine of a BranchENI row (``BranchENIState``)::

    creating --(created, associated)--> attached --(pod gone: issue 4)--> cooling
        |                                  |                                 |
        +--(attempt failed)--> deleting <--+--(annotation failed)            v
                                  |                                       deleting
                                  +--(disassociated, deleted)--> deleted (VLAN free)
                                  +--(deletes keep failing: issue 4)--> leaked

A ``creating`` row is the VLAN reservation, committed before any EC2 call: a crashed attempt
is resumed from it (the ENI is found again by its trunk and VLAN tags, the association by
its branch id), never repeated.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.controller.core.annotation import BranchDetails
from apps.controller.core.model import BranchSlot
from apps.controller.core.pod_plan import AtCapacity, Reserve, Resume, plan_reservation
from apps.controller.locks import locked
from apps.controller.ports.ec2 import EC2Port
from apps.inventory.models import Attachment, BranchENI, BranchENIState, Cluster, Node, TrunkENI

log = logging.getLogger(__name__)
RESERVE_ATTEMPTS = 5


@dataclass(frozen=True)
class Reservation:
    branch: BranchENI
    resumed: bool


def reserve_vlan(cluster: Cluster, node: Node, trunk: TrunkENI, pod, group_ids: list[str]
                 ) -> Reservation | AtCapacity:
    """Capacity check and VLAN reservation, atomically under the trunk row's lock."""
    for _ in range(RESERVE_ATTEMPTS):
        try:
            with transaction.atomic():
                list(locked(TrunkENI.objects.filter(pk=trunk.pk)).order_by().values_list("pk"))
                rows = BranchENI.objects.filter(trunk=trunk).exclude(
                    state=BranchENIState.DELETED).order_by().values_list(
                        "vlan_id", "pod_uid", "state")
                plan = plan_reservation(pod.uid, [BranchSlot(*r) for r in rows],
                                        node.branch_capacity, cluster.branch_cooldown_seconds)
                if isinstance(plan, AtCapacity):
                    return plan
                if isinstance(plan, Resume):
                    branch = BranchENI.objects.get(
                        trunk=trunk, vlan_id=plan.vlan_id, pod_uid=pod.uid, state=plan.state)
                    return Reservation(branch, resumed=True)
                assert isinstance(plan, Reserve)
                branch = BranchENI.objects.create(
                    cluster=cluster, trunk=trunk, node_name=node.name, vlan_id=plan.vlan_id,
                    subnet_id=node.subnet_id, subnet_cidr=node.subnet_cidr,
                    subnet_v6_cidr=node.subnet_v6_cidr, security_group_ids=group_ids,
                    pod_uid=pod.uid, pod_namespace=pod.namespace, pod_name=pod.name,
                    state=BranchENIState.CREATING)
                return Reservation(branch, resumed=False)
        except IntegrityError:  # SQLite: another process took the VLAN first; look again
            continue
    raise RuntimeError(f"could not reserve a VLAN on {trunk.eni_id} after {RESERVE_ATTEMPTS} tries")


def ensure_branch(ec2: EC2Port, cluster: Cluster, node: Node, trunk: TrunkENI,
                  reservation: Reservation) -> BranchDetails:
    """Create and associate the reserved branch, resuming whatever an earlier attempt did."""
    branch = reservation.branch
    if not branch.eni_id:
        found = (ec2.find_branch(trunk.eni_id, branch.vlan_id, list(branch.security_group_ids))
                 if reservation.resumed else None)
        created = found or ec2.create_branch(
            node.subnet_id, list(branch.security_group_ids), node.instance_id, cluster.name,
            trunk.eni_id, branch.vlan_id)
        branch.eni_id, branch.mac = created.eni_id, created.mac
        branch.private_ip = created.private_ip or None
        branch.ipv6_address = created.ipv6_address or None
        # A progress checkpoint, not a change of state: written without an audit record (the
        # transition to ``attached`` below records the whole row, ENI id included). It moves
        # ``updated``: a resync that read EC2 before this ENI existed leaves the row alone.
        BranchENI.objects.filter(pk=branch.pk).update(
            eni_id=branch.eni_id, mac=branch.mac, private_ip=branch.private_ip,
            ipv6_address=branch.ipv6_address, updated=timezone.now())
        ec2.grant_instance_attach(branch.eni_id, node.account_id)
    elif reservation.resumed and not branch.association_id:
        # The earlier attempt may have stopped between the create and the permission.
        if not ec2.has_instance_attach(branch.eni_id):
            ec2.grant_instance_attach(branch.eni_id, node.account_id)
    if not branch.association_id:
        existing = ec2.association_of(branch.eni_id) if reservation.resumed else ""
        association_id = existing or ec2.associate(branch.eni_id, trunk.eni_id, branch.vlan_id)
        branch._audit_before = branch.audit_data()  # the row as stored: no re-read to audit
        branch.association_id, branch.state = association_id, BranchENIState.ATTACHED
        branch.save(update_fields=["association_id", "state", "updated"])
    return details_of(branch)


def details_of(branch: BranchENI) -> BranchDetails:
    return BranchDetails(
        eni_id=branch.eni_id, mac=branch.mac, private_ip=branch.private_ip or "",
        vlan_id=branch.vlan_id, subnet_cidr=branch.subnet_cidr,
        association_id=branch.association_id, ipv6_address=branch.ipv6_address or "",
        subnet_v6_cidr=branch.subnet_v6_cidr)


def discard_branch(ec2: EC2Port, branch: BranchENI, trunk: TrunkENI, reason: str) -> bool:
    """Queue a failed attempt's branch for deletion (no cooldown) and try it at once.

    True when EC2 no longer has it and the VLAN is free; False when it stays ``deleting``
    for the delete queue (issue 4) to retry.
    """
    branch.state, branch.cooling_since = BranchENIState.DELETING, None
    branch.last_error = reason[:500]
    branch.save(update_fields=["state", "cooling_since", "last_error", "updated"])
    try:
        eni_id = branch.eni_id
        if not eni_id:  # the create may have happened with its answer lost
            found = ec2.find_branch(trunk.eni_id, branch.vlan_id,
                                    list(branch.security_group_ids))
            eni_id = found.eni_id if found else ""
        if branch.association_id:
            ec2.disassociate(branch.association_id)
        if eni_id:
            ec2.delete_eni(eni_id)
    except Exception as exc:
        log.warning("branch %s stays queued for deletion: %s", branch.pk, exc)
        branch.delete_attempts += 1
        branch.save(update_fields=["delete_attempts", "updated"])
        return False
    branch.state, branch.released_at = BranchENIState.DELETED, timezone.now()
    branch.save(update_fields=["state", "released_at", "updated"])
    return True


def start_cooldown(cluster: Cluster, pod_uid: str) -> int:
    """The pod is gone or finished: its attached branches start cooling, attachments close.

    Deletion after the cooldown is the release worker's (issue 4). ``creating`` rows are left
    to the attempt in progress, which discards them when it cannot annotate the pod.
    """
    now = timezone.now()
    with transaction.atomic():
        branches = list(locked(BranchENI.objects.filter(
            cluster=cluster, pod_uid=pod_uid, state=BranchENIState.ATTACHED)))
        for branch in branches:
            branch.state, branch.cooling_since = BranchENIState.COOLING, now
            branch.save(update_fields=["state", "cooling_since", "updated"])
        Attachment.objects.filter(cluster=cluster, pod_uid=pod_uid, until__isnull=True,
                                  since__lt=now).update(until=now)
    return len(branches)
