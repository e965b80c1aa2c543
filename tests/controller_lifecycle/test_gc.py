"""Leak collection over the stand-ins: per-node leak check and its schedule, the two-strike
cluster sweep, the node-termination cleanup; every run recorded (reference §4.6)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from apps.controller import gc
from apps.controller.models import GCRun, GCRunKind
from apps.inventory.models import BranchENI, BranchENIState, Node

from .conftest import attached, branch_ids_in_ec2


def stray_eni(world, *, cluster="demo", instance_id="i-0000000000000dead", owner=True) -> str:
    tags = {"node.k8s.amazonaws.com/instance_id": instance_id,
            f"kubernetes.io/cluster/{cluster}": "owned"}
    if owner:
        tags["eks:eni:owner"] = "eks-vpc-resource-controller"
    subnet = world.instances[0].subnet_id
    return world.ec2_seeder.create_network_interface(
        SubnetId=subnet, Description="aws-k8s-branch-eni",
        TagSpecifications=[{"ResourceType": "network-interface",
                            "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}],
    )["NetworkInterface"]["NetworkInterfaceId"]


def all_eni_ids(world) -> set[str]:
    return {e["NetworkInterfaceId"] for e in
            world.ec2_seeder.describe_network_interfaces()["NetworkInterfaces"]}


def test_leak_check_releases_branches_of_pods_deleted_behind_our_back(world, monkeypatch):
    monkeypatch.setattr(gc.random, "random", lambda: 0.5)
    gone, kept = attached(world, "gone"), attached(world, "kept")
    world.core.delete_namespaced_pod("gone", "default")  # the controller hears nothing
    run = gc.check_node_for_leaks(world.cluster, "node-0")
    assert run.kind == GCRunKind.LEAK_CHECK and run.node_name == "node-0" and run.found == 1
    assert run.details["interval_seconds"] == 60  # a leak: back to 1 minute
    assert BranchENI.objects.get(eni_id=gone["eniId"]).state == BranchENIState.COOLING
    assert BranchENI.objects.get(eni_id=kept["eniId"]).state == BranchENIState.ATTACHED
    assert gc.leak_checks_due(world.cluster) == []
    quiet = gc.check_node_for_leaks(world.cluster, "node-0")
    assert quiet.found == 0 and quiet.details["interval_seconds"] == 60 * 3.5  # jitter(60, 5)
    grown = [gc.check_node_for_leaks(world.cluster, "node-0").details["interval_seconds"]
             for _ in range(3)]
    assert grown == [735.0, 900.0, 900.0]  # capped at 15 minutes


def test_a_node_pass_reads_its_own_nodes_pods_from_the_api_server(world):
    """The leak check and the resync of one node list that node's pods (a field selector
    on spec.nodeName, paged), not the whole cluster's."""
    from apps.controller.ports.cluster import ClusterPort
    from apps.controller.resync import pods_on_node

    world.add_node(1)
    for index in range(5):
        world.add_pod(f"here-{index}", 0, eni=False)
        world.add_pod(f"there-{index}", 1, eni=False)
    world.add_pod("unscheduled", None, eni=False)
    port = ClusterPort(world.cluster)
    names = {p["metadata"]["name"] for p in port.pods_on_node("node-0")}
    assert names == {f"here-{index}" for index in range(5)}
    paged, _ = port.list("Pod", page_size=2, field_selector="spec.nodeName=node-1")
    assert {p["metadata"]["name"] for p in paged} == {f"there-{index}" for index in range(5)}
    assert {p["metadata"]["name"] for p in pods_on_node(port, "node-1").values()} == {
        f"there-{index}" for index in range(5)}
    assert len(gc.live_pods(port, "node-0")) == 5


def test_leak_check_schedule_comes_due(world):
    assert gc.leak_checks_due(world.cluster) == ["node-0"]  # never checked
    run = gc.check_node_for_leaks(world.cluster, "node-0")
    past = (timezone.now() - dt.timedelta(seconds=1)).isoformat()
    GCRun.objects.filter(pk=run.pk).update(details={**run.details, "next_at": past})
    assert gc.leak_checks_due(world.cluster) == ["node-0"]


def test_failed_leak_check_is_recorded_and_retried_soon(world, kube, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise ConnectionError("API server unreachable")

    monkeypatch.setattr(gc, "live_pods", refuse)
    run = gc.check_node_for_leaks(world.cluster, "node-0")
    assert "unreachable" in run.error and run.details["interval_seconds"] == 60


def test_sweep_deletes_only_on_the_second_sighting_and_spares_what_is_ours(world):
    in_service = attached(world, "p1")  # available in the stand-in, but associated
    stray = stray_eni(world)
    foreign = stray_eni(world, cluster="other")
    not_ours = stray_eni(world, owner=False)
    first = gc.sweep_cluster(world.cluster)
    assert first.kind == GCRunKind.SWEEP and first.deleted == 0
    assert first.details["candidates"] == [stray]
    assert in_service["eniId"] in first.details["protected"]
    assert stray in all_eni_ids(world)
    second = gc.sweep_cluster(world.cluster)
    assert second.details["deleted"] == [stray] and second.deleted == 1
    assert stray not in all_eni_ids(world)
    assert {foreign, not_ours, in_service["eniId"]} <= all_eni_ids(world)
    third = gc.sweep_cluster(world.cluster)
    assert third.found == 0 and third.deleted == 0


def test_sweep_spares_a_created_but_not_yet_associated_branch(world):
    attached(world, "p1")
    row = BranchENI.objects.get(pod_name="p1")
    world.ec2_seeder.disassociate_trunk_interface(AssociationId=row.association_id)
    BranchENI.objects.filter(pk=row.pk).update(state=BranchENIState.CREATING)
    for _ in range(2):
        run = gc.sweep_cluster(world.cluster)
    assert run.deleted == 0 and row.eni_id in run.details["protected"]
    assert row.eni_id in branch_ids_in_ec2(world)


def test_sweep_due_every_interval(world, monkeypatch):
    monkeypatch.setenv("SGPADMIN_SWEEP_INTERVAL_SECONDS", "1800")
    assert gc.sweep_due(world.cluster)
    run = gc.sweep_cluster(world.cluster)
    assert not gc.sweep_due(world.cluster)
    GCRun.objects.filter(pk=run.pk).update(started=timezone.now() - dt.timedelta(minutes=31))
    assert gc.sweep_due(world.cluster)


def test_sweep_failure_is_recorded_and_keeps_the_candidates(world, ec2):
    stray = stray_eni(world)
    gc.sweep_cluster(world.cluster)
    ec2.control.configure(faults=[{"actions": ["DescribeNetworkInterfaces"], "count": 5,
                                   "code": "UnauthorizedOperation", "status": 403}])
    failed = gc.sweep_cluster(world.cluster)
    assert failed.error.startswith("UnauthorizedOperation")
    assert failed.details["candidates"] == [stray]
    ec2.control.configure(faults=[])
    assert gc.sweep_cluster(world.cluster).details["deleted"] == [stray]


def test_node_termination_cleanup_deletes_the_nodes_available_enis_at_once(world):
    node = Node.objects.get(name="node-0")
    mine = stray_eni(world, instance_id=node.instance_id)
    other_node = stray_eni(world, instance_id="i-0000000000000beef")
    in_service = attached(world, "p1")
    world.core.delete_node("node-0")
    Node.objects.filter(pk=node.pk).update(deleted_at=timezone.now())
    assert gc.terminated_nodes_due(world.cluster) == []  # its branches are not released yet
    BranchENI.objects.filter(eni_id=in_service["eniId"]).update(state=BranchENIState.DELETED)
    [due] = gc.terminated_nodes_due(world.cluster)
    run = gc.cleanup_terminated_node(world.cluster, due)
    assert run.kind == GCRunKind.NODE_TERMINATION and run.deleted == 1
    assert run.details["deleted"] == [mine]
    assert mine not in all_eni_ids(world)
    assert {other_node, in_service["eniId"]} <= all_eni_ids(world)  # associated: spared
    assert gc.terminated_nodes_due(world.cluster) == []


def test_a_deleted_node_without_an_instance_id_needs_no_cleanup(world):
    ghost = Node.objects.create(cluster=world.cluster, name="ghost", deleted_at=timezone.now())
    assert gc.terminated_nodes_due(world.cluster) == []
    run = gc.cleanup_terminated_node(world.cluster, ghost)  # a task sent before: done, clean
    assert run.error == "" and run.details == {"skipped": "node has no instance id"}
    assert gc.terminated_nodes_due(world.cluster) == []


def test_failed_node_termination_cleanup_backs_off(world, ec2, monkeypatch):
    monkeypatch.setenv("SGPADMIN_NODE_CLEANUP_RETRY_SECONDS", "30")
    monkeypatch.setenv("SGPADMIN_NODE_CLEANUP_RETRY_MAX_SECONDS", "3600")
    node = Node.objects.get(name="node-0")
    mine = stray_eni(world, instance_id=node.instance_id)
    Node.objects.filter(pk=node.pk).update(deleted_at=timezone.now() - dt.timedelta(hours=2))
    ec2.control.configure(faults=[{"actions": ["DescribeNetworkInterfaces"], "count": 1000,
                                   "code": "UnauthorizedOperation", "status": 403}])

    def fail_once(expected_wait: int) -> None:
        [due] = gc.terminated_nodes_due(world.cluster)
        run = gc.cleanup_terminated_node(world.cluster, due)
        assert run.error.startswith("UnauthorizedOperation")
        assert gc.terminated_nodes_due(world.cluster) == []  # not on the next tick
        age_runs(expected_wait - 1)
        assert gc.terminated_nodes_due(world.cluster) == []
        age_runs(1)

    def age_runs(seconds: int) -> None:
        for run in GCRun.objects.filter(kind=GCRunKind.NODE_TERMINATION):
            GCRun.objects.filter(pk=run.pk).update(
                started=run.started - dt.timedelta(seconds=seconds))

    for wait in (30, 60, 120):
        fail_once(wait)
    ec2.control.configure(faults=[])
    [due] = gc.terminated_nodes_due(world.cluster)
    assert gc.cleanup_terminated_node(world.cluster, due).details["deleted"] == [mine]
    assert gc.terminated_nodes_due(world.cluster) == []
    assert GCRun.objects.filter(kind=GCRunKind.NODE_TERMINATION).count() == 4


def test_old_runs_are_pruned_but_not_the_cooldown_in_force(world):
    old = timezone.now() - dt.timedelta(days=31)
    for kind in (GCRunKind.SWEEP, GCRunKind.COOLDOWN_UPDATE):
        GCRun.objects.create(kind=kind, cluster=world.cluster, started=old,
                             details={"cooldown_seconds": 60})
    recent = gc.sweep_cluster(world.cluster)
    assert gc.prune_runs() == 1
    assert set(GCRun.objects.values_list("kind", flat=True)) == {GCRunKind.SWEEP,
                                                                 GCRunKind.COOLDOWN_UPDATE}
    assert GCRun.objects.filter(kind=GCRunKind.SWEEP).get().pk == recent.pk
