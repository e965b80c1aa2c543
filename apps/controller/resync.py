"""Restart resync (reference §4.8): rebuild a node's trunk, branch and VLAN rows from EC2 and
the pod annotations, and reconcile the database with them.

Runs at worker start (``worker_ready``, see :mod:`apps.controller.tasks_lifecycle`) and on
demand. The node reconcile (:func:`apps.controller.node_reconcile.reconcile_node`) first
finds the trunk (never creating one that exists); then EC2 is read (branches by their
``trunk-eni-id`` tag, in any subnet; the trunk's associations), then the pods, then the rows,
and :func:`apps.controller.core.resync_plan.plan_resync` decides. The rows are written under
the trunk row's lock, the lock the VLAN reservation takes, so no attach interleaves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.controller.core import resync_plan
from apps.controller.core.annotation import AnnotationError, parse_annotation
from apps.controller.core.constants import POD_ENI, TAG_TRUNK_ENI_ID, TAG_VLAN_ID
from apps.controller.core.model import Event, EventType
from apps.controller.locks import locked
from apps.controller.models import GCRun, GCRunKind
from apps.controller.node_reconcile import ec2_port_for, reconcile_node
from apps.controller.ports.cluster import ClusterPort
from apps.controller.ports.ec2 import EC2Port
from apps.controller.release import close_attachments, mark_node_deleted
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import Attachment, BranchENI, BranchENIState, Cluster, Node, TrunkENI

log = logging.getLogger(__name__)


def _tags(eni: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in eni.get("TagSet") or eni.get("Tags") or []}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class EC2View:
    branches: list[resync_plan.EC2Branch]
    enis: dict[str, dict]  # eni id -> DescribeNetworkInterfaces entry


def read_ec2(ec2: EC2Port, trunk_eni_id: str) -> EC2View:
    enis = {e["NetworkInterfaceId"]: e for e in ec2.describe_enis(
        [{"Name": f"tag:{TAG_TRUNK_ENI_ID}", "Values": [trunk_eni_id]}])}
    associations = {a["BranchInterfaceId"]: a for a in ec2.trunk_associations(
        [{"Name": "trunk-interface-association.trunk-interface-id", "Values": [trunk_eni_id]}])}
    branches = []
    for eni_id, eni in sorted(enis.items()):
        assoc = associations.get(eni_id, {})
        branches.append(resync_plan.EC2Branch(
            eni_id, _int(_tags(eni).get(TAG_VLAN_ID)), assoc.get("AssociationId", ""),
            _int(assoc.get("VlanId"))))
    return EC2View(branches, enis)


def pod_view(pod: dict) -> resync_plan.PodView:
    from apps.controller.cluster_objects import pod_facts

    facts = pod_facts(pod)
    value = (pod["metadata"].get("annotations") or {}).get(POD_ENI)
    enis: tuple[str, ...] = ()
    if value:
        try:
            enis = tuple(str(e["eniId"]) for e in parse_annotation(value) if e["eniId"])
        except AnnotationError:
            enis = ()  # a malformed value is no claim on any ENI
    return resync_plan.PodView(facts.uid, facts.namespace, facts.name, facts.phase,
                               facts.deleting, facts.requested_enis > 0, facts.annotated, enis)


def pods_on_node(port: ClusterPort, node_name: str) -> dict[str, dict]:
    return {p["metadata"]["uid"]: p for p in port.pods_on_node(node_name)
            if p["metadata"].get("uid")}


def resync_node(cluster: Cluster, node_name: str, ec2: EC2Port | None = None) -> GCRun:
    started = timezone.now()
    with change_scope(context=ChangeContext.WORKER, actor_name="controller"):
        outcome = reconcile_node(cluster, node_name)
        trunk = TrunkENI.objects.filter(cluster=cluster, node__name=node_name).first()
        if not outcome.managed or trunk is None:
            return GCRun.objects.create(
                kind=GCRunKind.RESYNC, cluster=cluster, node_name=node_name, started=started,
                finished=timezone.now(), details={"skipped": outcome.note})
        ec2 = ec2 or ec2_port_for(cluster)
        port = ClusterPort(cluster)
        snapshot_at = timezone.now()
        view = read_ec2(ec2, trunk.eni_id)
        pods = pods_on_node(port, node_name)
        with transaction.atomic():
            list(locked(TrunkENI.objects.filter(pk=trunk.pk)).order_by().values_list("pk"))
            # The rows too: an attach writing one between this read and the plan's write
            # would otherwise be overwritten with a decision made on what it replaced.
            rows = [resync_plan.RowView(b.pk, b.eni_id, b.vlan_id, b.state, b.pod_uid, b.updated)
                    for b in locked(BranchENI.objects.filter(trunk=trunk)
                                    .exclude(state=BranchENIState.DELETED))]
            plan = resync_plan.plan_resync(view.branches, [pod_view(p) for p in pods.values()],
                                           rows, snapshot_at)
            apply_plan(cluster, trunk, plan, view, pods)
        _report_stale(port, plan, pods)
        return GCRun.objects.create(
            kind=GCRunKind.RESYNC, cluster=cluster, node_name=node_name, started=started,
            finished=timezone.now(), found=len(plan.orphan) + len(plan.cool),
            details={"summary": plan.summary(), "trunk_eni_id": trunk.eni_id,
                     "orphans": [o.eni_id for o in plan.orphan],
                     "cooled_pods": [c.pod_uid for c in plan.cool],
                     "adopted": [a.eni_id for a in plan.adopt],
                     "restored": [r.eni_id for r in plan.restore],
                     "forgotten": [f.eni_id for f in plan.forget],
                     "skipped": {s.eni_id: s.reason for s in plan.skip},
                     "stale": [[s.pod_uid, s.eni_id] for s in plan.stale],
                     "attach": [[a.namespace, a.name, a.pod_uid] for a in plan.attach]})


def apply_plan(cluster: Cluster, trunk: TrunkENI, plan: resync_plan.ResyncPlan, view: EC2View,
               pods: dict[str, dict]) -> None:
    """Write the plan's rows; the order frees VLANs before they are taken again."""
    now = timezone.now()
    node = trunk.node
    for forget in plan.forget:
        branch = BranchENI.objects.get(pk=forget.row_id)
        branch.state, branch.released_at = BranchENIState.DELETED, now
        branch.last_error = "not found in EC2 at resync"
        branch.save(update_fields=["state", "released_at", "last_error", "updated"])
        close_attachments(cluster, branch.pod_uid, now)
    for cool in plan.cool:
        branch = BranchENI.objects.get(pk=cool.row_id)
        branch.state, branch.cooling_since = BranchENIState.COOLING, now
        branch.save(update_fields=["state", "cooling_since", "updated"])
        close_attachments(cluster, cool.pod_uid, now)
    for restore in plan.restore:
        branch = BranchENI.objects.get(pk=restore.row_id)
        _fill(branch, view.enis.get(restore.eni_id, {}), pods.get(restore.pod_uid), node)
        branch.vlan_id, branch.association_id = restore.vlan_id, restore.association_id
        branch.state, branch.cooling_since = BranchENIState.ATTACHED, None
        branch.save()
        _open_attachment(cluster, branch, now)
    for adopt in plan.adopt:
        branch = BranchENI(cluster=cluster, trunk=trunk, node_name=node.name, vlan_id=adopt.vlan_id,
                           association_id=adopt.association_id, state=BranchENIState.ATTACHED)
        _fill(branch, view.enis[adopt.eni_id], pods.get(adopt.pod_uid), node)
        branch.save()
        _open_attachment(cluster, branch, now)
    for orphan in plan.orphan:
        branch = BranchENI(cluster=cluster, trunk=trunk, node_name=node.name,
                           vlan_id=orphan.vlan_id, association_id=orphan.association_id,
                           state=BranchENIState.COOLING, cooling_since=now,
                           last_error="orphan found at resync")
        _fill(branch, view.enis[orphan.eni_id], None, node)
        branch.save()


def _fill(branch: BranchENI, eni: dict, pod: dict | None, node: Node) -> None:
    if eni:
        ipv6 = (eni.get("Ipv6Addresses") or [{}])[0].get("Ipv6Address")
        branch.eni_id, branch.mac = eni["NetworkInterfaceId"], eni.get("MacAddress", "")
        branch.private_ip = eni.get("PrivateIpAddress") or None
        branch.ipv6_address = ipv6 or None
        branch.subnet_id = eni.get("SubnetId", "")
        branch.security_group_ids = [g["GroupId"] for g in eni.get("Groups", [])]
        if branch.subnet_id == node.subnet_id:
            branch.subnet_cidr, branch.subnet_v6_cidr = node.subnet_cidr, node.subnet_v6_cidr
    if pod is not None:
        meta = pod["metadata"]
        branch.pod_uid, branch.pod_namespace = meta["uid"], meta.get("namespace", "")
        branch.pod_name = meta.get("name", "")


def _open_attachment(cluster: Cluster, branch: BranchENI, now) -> None:
    Attachment.objects.filter(eni_id=branch.eni_id, until__isnull=True).exclude(
        pod_uid=branch.pod_uid).update(until=now)
    Attachment.objects.get_or_create(
        eni_id=branch.eni_id, until=None,
        defaults={"cluster": cluster, "branch": branch, "node_name": branch.node_name,
                  "pod_uid": branch.pod_uid, "pod_namespace": branch.pod_namespace,
                  "pod_name": branch.pod_name, "private_ip": branch.private_ip,
                  "mac": branch.mac, "vlan_id": branch.vlan_id,
                  "security_group_ids": branch.security_group_ids, "since": now})


def _report_stale(port: ClusterPort, plan: resync_plan.ResyncPlan, pods: dict[str, dict]) -> None:
    for stale in plan.stale:
        log.error("pod %s names branch %s, which EC2 does not have", stale.pod_uid, stale.eni_id)
        try:
            port.emit_event("Pod", pods[stale.pod_uid], Event(
                EventType.WARNING, "BranchENINotFound",
                f"branch ENI {stale.eni_id} of this pod's annotation does not exist in EC2"))
        except Exception:
            log.warning("could not record BranchENINotFound", exc_info=True)


def resync_cluster(cluster: Cluster, on_node=None) -> list[GCRun]:
    """Resync every node the cluster has; nodes it no longer has are marked deleted.

    ``on_node(index, total, run)``, when given, hears about each node as it is done (the
    background job's progress)."""
    port = ClusterPort(cluster)
    nodes, _ = port.list("Node")
    names = sorted(n["metadata"]["name"] for n in nodes)
    for node in Node.objects.filter(cluster=cluster, deleted_at__isnull=True).exclude(
            name__in=names):
        mark_node_deleted(node)
    runs = []
    for name in names:
        try:
            runs.append(resync_node(cluster, name))
        except Exception as exc:
            log.warning("resync of node %s failed: %s", name, exc, exc_info=True)
            now = timezone.now()
            runs.append(GCRun.objects.create(kind=GCRunKind.RESYNC, cluster=cluster,
                                             node_name=name, started=now, finished=now,
                                             error=str(exc)[:500]))
        if on_node is not None:
            on_node(len(runs), len(names), runs[-1])
    return runs
