"""Node reconcile: managed-node rule, trunk find-or-create, capacity (reference §3).

Loads the node (and its CNINode) from the cluster, asks the core, executes through the ports,
records the outcome on the Node and TrunkENI rows.

A node name that comes back on another instance (EKS names nodes after their private IP)
finds the old instance's trunk row: that trunk is retired (its branches released as a deleted
node's are, the row detached from the node) and a trunk is set up on the new instance.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from botocore.exceptions import ClientError
from django.db import transaction
from django.utils import timezone

from apps.controller.cluster_objects import cninode_features, node_facts
from apps.controller.core import node_plan
from apps.controller.core.trunk_plan import (
    CreateTrunk,
    TrunkPlanError,
    plan_trunk,
    primary_interface,
)
from apps.controller.instance_limits import limit_for
from apps.controller.locks import locked, node_lock
from apps.controller.ports.cluster import ClusterPort
from apps.controller.ports.ec2 import EC2Port, error_code
from apps.controller.trunk_setup import create_and_attach_trunk, wait_until_attached
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import BranchENI, BranchENIState, Cluster, Node, TrunkENI

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeOutcome:
    managed: bool
    note: str
    trunk_eni_id: str = ""
    busy: bool = False  # another worker holds the node; try again shortly


def ec2_port_for(cluster: Cluster) -> EC2Port:
    return EC2Port(cluster.region, cluster.ec2_endpoint_url or None)


def _save_node_row(cluster: Cluster, facts, decision, k8s_node: dict) -> Node:
    row, _ = Node.objects.get_or_create(cluster=cluster, name=facts.name)
    changes = {
        "uid": k8s_node.get("metadata", {}).get("uid", ""),
        "instance_id": decision.instance_id, "instance_type": facts.instance_type,
        "os": node_plan.os_of(facts.labels) or row.os, "labels": facts.labels,
        "cninode_features": list(facts.cninode_features), "deleted_at": None,
    }
    dirty = [name for name, value in changes.items() if getattr(row, name) != value]
    for name in dirty:
        setattr(row, name, changes[name])
    if dirty:
        row.save(update_fields=[*dirty, "updated"])
    return row


def _emit(cluster_port: ClusterPort, k8s_node: dict, events) -> None:
    for event in events:
        try:
            cluster_port.emit_event("Node", k8s_node, event)
        except Exception:
            log.warning("could not record node event %s", event.reason, exc_info=True)


def _init_trunk(cluster: Cluster, row: Node, decision, ec2: EC2Port, limit) -> TrunkENI:
    """Find or create the trunk; fill the node's subnet, groups and account."""
    instance = ec2.describe_instance(decision.instance_id)
    cidr, v6_cidr = ec2.describe_subnet_cidrs(instance.subnet_id)
    primary = primary_interface(instance.interfaces, instance.private_ip)
    groups = list(primary.security_group_ids) if primary else []
    plan = plan_trunk(instance.interfaces, limit.device_slots)
    if isinstance(plan, CreateTrunk):
        trunk, _ = create_and_attach_trunk(
            ec2, instance_id=instance.instance_id, subnet_id=instance.subnet_id,
            group_ids=groups, account_id=instance.owner_id, cluster_name=cluster.name,
            device_index=plan.device_index)
        eni_id, mac, device_index = trunk.eni_id, trunk.mac, plan.device_index
    else:
        if not plan.attached and not wait_until_attached(ec2, plan.eni_id):
            raise TrunkPlanError(f"trunk {plan.eni_id} is not attached")
        eni_id, mac = plan.eni_id, ""
        device_index = next(i.device_index for i in instance.interfaces if i.eni_id == eni_id)
    with transaction.atomic():
        row.subnet_id, row.subnet_cidr, row.subnet_v6_cidr = instance.subnet_id, cidr, v6_cidr
        row.account_id, row.security_group_ids = instance.owner_id, groups
        row.save(update_fields=["subnet_id", "subnet_cidr", "subnet_v6_cidr", "account_id",
                                "security_group_ids", "updated"])
        trunk_row, _ = TrunkENI.objects.update_or_create(
            node=row, defaults={"cluster": cluster, "instance_id": instance.instance_id,
                                "eni_id": eni_id, "mac": mac, "subnet_id": instance.subnet_id,
                                "device_index": device_index})
    return trunk_row


def of_another_instance(trunk: TrunkENI, node: Node) -> bool:
    """The trunk was made for an instance the node is no longer on (a recycled node name)."""
    return bool(trunk.instance_id) and trunk.instance_id != node.instance_id


def _retire_trunk(cluster: Cluster, row: Node, trunk: TrunkENI) -> bool:
    """Release the old instance's branches and detach its trunk row from the node.

    The release is a deleted node's (every pod's branches at once, no cooldown). False while
    a branch of the trunk is still in service (an attach in progress holds its pod): the
    trunk stays until a later reconcile. Branches whose delete failed stay queued on the
    retired row, where the release queue and the sweep go on retrying them.
    """
    from apps.controller.release import release_deleted_node  # release imports this module

    log.warning("node %s moved from %s to %s: retiring trunk %s", row.name, trunk.instance_id,
                row.instance_id, trunk.eni_id)
    run = release_deleted_node(cluster, row)
    run.details = {**run.details, "retired_trunk": trunk.eni_id,
                   "replaced_instance": trunk.instance_id}
    run.save(update_fields=["details"])
    with transaction.atomic():  # under the trunk row's lock, the one a VLAN reservation takes
        trunk = locked(TrunkENI.objects.filter(pk=trunk.pk).order_by("pk")).first()
        if trunk is None or trunk.node_id != row.pk:
            return True
        if BranchENI.objects.filter(trunk=trunk, state__in=[
                BranchENIState.CREATING, BranchENIState.ATTACHED]).exists():
            return False
        trunk.node = None
        trunk.save(update_fields=["node", "updated"])
    return True


def reconcile_node(cluster: Cluster, node_name: str) -> NodeOutcome:
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        cluster_port = ClusterPort(cluster)
        k8s_node = cluster_port.get_node(node_name)
        if k8s_node is None:
            Node.objects.filter(cluster=cluster, name=node_name, deleted_at__isnull=True).update(
                deleted_at=timezone.now())  # release of its branches: issue 4
            return NodeOutcome(False, "node is gone")
        facts = node_facts(k8s_node, cninode_features(cluster_port.get_cninode(node_name)))
        limit = limit_for(facts.instance_type)
        decision = node_plan.decide_node(facts, limit)
        row = _save_node_row(cluster, facts, decision, k8s_node)
        if not decision.managed:
            if row.managed or row.status_note != decision.reason:
                _emit(cluster_port, k8s_node, decision.events)
                row.managed, row.status_note = False, decision.reason
                row.save(update_fields=["managed", "status_note", "updated"])
            return NodeOutcome(False, decision.reason)
        trunk = TrunkENI.objects.filter(node=row).first()
        if trunk is None or of_another_instance(trunk, row):
            with node_lock(cluster.pk, node_name) as owned:
                if not owned:
                    return NodeOutcome(False, "trunk setup in progress elsewhere", busy=True)
                trunk = TrunkENI.objects.filter(node=row).first()
                if trunk is not None and of_another_instance(trunk, row):
                    if not _retire_trunk(cluster, row, trunk):
                        return NodeOutcome(False, "releasing the branches of the replaced "
                                           "instance", busy=True)
                    trunk = None
                if trunk is None:
                    trunk = _setup_trunk(cluster, row, decision, limit, cluster_port, k8s_node)
        if not row.managed or row.branch_capacity != decision.branch_limit or row.status_note:
            row.managed, row.branch_capacity, row.status_note = True, decision.branch_limit, ""
            row.save(update_fields=["managed", "branch_capacity", "status_note", "updated"])
        patch = node_plan.node_capacity_patch(facts, decision)
        if patch is not None:
            cluster_port.patch_node_status(node_name, patch)
        return NodeOutcome(True, "managed", trunk.eni_id)


def _setup_trunk(cluster, row, decision, limit, cluster_port, k8s_node) -> TrunkENI:
    _emit(cluster_port, k8s_node, [node_plan.version_notice()])
    try:
        trunk = _init_trunk(cluster, row, decision, ec2_port_for(cluster), limit)
    except Exception as exc:
        events = [node_plan.TRUNK_FAILED_INIT]
        if isinstance(exc, ClientError):
            events.append(node_plan.trunk_creation_failed(error_code(exc)))
        _emit(cluster_port, k8s_node, events)
        row.managed, row.status_note = False, f"trunk init failed: {exc}"[:300]
        row.save(update_fields=["managed", "status_note", "updated"])
        raise
    _emit(cluster_port, k8s_node, [node_plan.TRUNK_INITIATED])
    return trunk
