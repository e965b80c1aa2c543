"""Release over the stand-ins: cooldown, disassociate, delete, VLAN freed; retries, leaks;
run-time cooldown changes; node deletion (reference §4.5, §4.7)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.audit.models import ChangeRecord
from apps.controller import release
from apps.controller.gc import sweep_cluster
from apps.controller.models import GCRun, GCRunKind
from apps.controller.node_reconcile import ec2_port_for, reconcile_node
from apps.core.context import ChangeContext, change_scope
from apps.inventory.models import Attachment, BranchENI, BranchENIState, Node

from .conftest import (
    age_cooldown,
    associated_ids,
    attached,
    branch_ids_in_ec2,
    delete_pod,
    finish_pod,
    held_elsewhere,
)


def state_of(eni_id: str) -> BranchENI:
    return BranchENI.objects.get(eni_id=eni_id)


def world_uid(world, name):
    return BranchENI.objects.get(pod_name=name, state=BranchENIState.ATTACHED).pod_uid


def test_deleted_pod_cools_then_is_disassociated_deleted_and_its_vlan_freed(world):
    entry = attached(world, "p1")
    uid = world_uid(world, "p1")
    delete_pod(world, "p1")
    branch = state_of(entry["eniId"])
    assert branch.state == BranchENIState.COOLING and branch.cooling_since is not None
    assert Attachment.objects.get(eni_id=entry["eniId"]).until is not None
    outcome = release.process_node_queue(world.cluster, "node-0")
    assert outcome.deleted == [] and outcome.next_due_in > 50  # default 60 s cooldown
    assert entry["eniId"] in branch_ids_in_ec2(world)
    age_cooldown(61)
    outcome = release.process_node_queue(world.cluster, "node-0")
    assert outcome.deleted == [entry["eniId"]] and outcome.next_due_in is None
    assert entry["eniId"] not in branch_ids_in_ec2(world)
    assert entry["eniId"] not in associated_ids(world)
    branch = state_of(entry["eniId"])
    assert branch.state == BranchENIState.DELETED and branch.released_at is not None
    assert branch.pod_uid == uid
    second = attached(world, "p2")
    assert second["vlanId"] == entry["vlanId"]  # the VLAN is free again


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pod_is_released(world, phase):
    entry = attached(world, "job")
    keep = attached(world, "web")
    finish_pod(world, "job", phase)  # the watcher's event goes to the release worker
    assert state_of(entry["eniId"]).state == BranchENIState.COOLING
    assert state_of(keep["eniId"]).state == BranchENIState.ATTACHED


@pytest.mark.parametrize("phase", ["Succeeded", "Failed"])
def test_finished_pod_whose_event_was_missed_is_released_by_the_leak_check(world, phase):
    from apps.controller.gc import check_node_for_leaks

    entry = attached(world, "job")
    keep = attached(world, "web")
    world.core.patch_namespaced_pod_status("job", "default", {"status": {"phase": phase}})
    run = check_node_for_leaks(world.cluster, "node-0")
    assert run.found == 1 and run.details["branches_released"] == 1
    assert state_of(entry["eniId"]).state == BranchENIState.COOLING
    assert state_of(keep["eniId"]).state == BranchENIState.ATTACHED


def test_cooldown_floor_and_test_override(world, monkeypatch):
    world.cluster.branch_cooldown_seconds = 5
    assert release.cooldown_seconds(world.cluster) == 30
    monkeypatch.setenv("SGPADMIN_MIN_COOLDOWN_SECONDS", "0")
    assert release.cooldown_seconds(world.cluster) == 5


def test_branch_not_due_before_the_cluster_cooldown(world, monkeypatch):
    monkeypatch.setenv("SGPADMIN_MIN_COOLDOWN_SECONDS", "0")
    world.cluster.branch_cooldown_seconds = 120
    world.cluster.save()
    entry = attached(world, "p1")
    delete_pod(world, "p1")
    age_cooldown(90)
    assert release.process_node_queue(world.cluster, "node-0").deleted == []
    age_cooldown(31)
    assert release.process_node_queue(world.cluster, "node-0").deleted == [entry["eniId"]]


def test_cooldown_change_is_audited_and_announced_on_every_node(world):
    world.add_node(1)
    reconcile_node(world.cluster, "node-1")
    first = release.announce_cooldown_change(world.cluster)
    assert first.details["cooldown_seconds"] == 60 and first.details["nodes"] == []
    assert release.announce_cooldown_change(world.cluster) is None  # nothing changed
    with change_scope(context=ChangeContext.API, actor_name="alice"):
        world.cluster.branch_cooldown_seconds = 90
        world.cluster.save()
    record = ChangeRecord.objects.filter(object_repr=world.cluster.name).order_by("-id").first()
    assert record is not None and record.actor_name == "alice"
    assert record.after["branch_cooldown_seconds"] == 90
    run = release.announce_cooldown_change(world.cluster)
    assert run.details["previous_seconds"] == 60 and sorted(run.details["nodes"]) == [
        "node-0", "node-1"]
    for node in ("node-0", "node-1"):
        assert ("Normal", "BranchENICoolDownPeriodUpdated",
                "Branch ENI cool down period has been updated to 1m30s") in world.events(node)


def test_delete_failures_back_off_then_leak_keeping_the_vlan_until_the_sweep(world, ec2,
                                                                               monkeypatch):
    monkeypatch.setenv("SGPADMIN_BRANCH_DELETE_ATTEMPTS", "3")
    entry = attached(world, "p1")
    delete_pod(world, "p1")
    age_cooldown()
    ec2.control.configure(faults=[{"actions": ["DeleteNetworkInterface"], "count": 3,
                                   "code": "UnauthorizedOperation", "status": 403}])
    first = release.process_node_queue(world.cluster, "node-0")
    assert first.failed == [entry["eniId"]]
    branch = state_of(entry["eniId"])
    assert branch.state == BranchENIState.DELETING and branch.delete_attempts == 1
    assert branch.last_error.startswith("UnauthorizedOperation")
    monkeypatch.setenv("SGPADMIN_DELETE_BACKOFF_SECONDS", "1000")  # now the backoff holds
    assert release.process_node_queue(world.cluster, "node-0").failed == []
    monkeypatch.setenv("SGPADMIN_DELETE_BACKOFF_SECONDS", "0")
    release.process_node_queue(world.cluster, "node-0")
    third = release.process_node_queue(world.cluster, "node-0")
    assert third.leaked == [entry["eniId"]]
    branch = state_of(entry["eniId"])
    assert branch.state == BranchENIState.LEAKED and branch.delete_attempts == 3
    assert release.process_node_queue(world.cluster, "node-0").deleted == []  # sweep's now
    assert attached(world, "p2")["vlanId"] != entry["vlanId"]  # VLAN still held
    assert entry["eniId"] in branch_ids_in_ec2(world)
    run = sweep_cluster(world.cluster)
    assert run.details["leaked_freed"] == [entry["eniId"]]
    assert state_of(entry["eniId"]).state == BranchENIState.DELETED
    assert entry["eniId"] not in branch_ids_in_ec2(world)


def test_eni_already_gone_counts_as_deleted(world):
    entry = attached(world, "p1")
    delete_pod(world, "p1")
    world.ec2_seeder.disassociate_trunk_interface(AssociationId=entry["associationID"])
    world.ec2_seeder.delete_network_interface(NetworkInterfaceId=entry["eniId"])
    age_cooldown()
    assert release.process_node_queue(world.cluster, "node-0").deleted == [entry["eniId"]]
    assert state_of(entry["eniId"]).state == BranchENIState.DELETED


def test_no_association_id_skips_the_disassociate(world, ec2):
    entry = attached(world, "p1")
    delete_pod(world, "p1")
    BranchENI.objects.filter(eni_id=entry["eniId"]).update(association_id="")
    age_cooldown()
    ec2.control.reset_counters()
    assert release.process_node_queue(world.cluster, "node-0").deleted == [entry["eniId"]]
    assert ec2.control.calls("DisassociateTrunkInterface") == 0
    assert ec2.control.calls("DeleteNetworkInterface", "ok") == 1


def test_second_worker_finds_the_node_busy(world):
    with held_elsewhere("release", world.cluster.pk, "node-0"):
        assert release.process_node_queue(world.cluster, "node-0").busy
    assert not release.process_node_queue(world.cluster, "node-0").busy


def test_deleted_node_releases_everything_after_the_grace_period_ignoring_cooldown(world,
                                                                                   monkeypatch):
    first, second = attached(world, "p1"), attached(world, "p2")
    world.core.delete_node("node-0")
    reconcile_node(world.cluster, "node-0")
    node = Node.objects.get(name="node-0")
    assert node.deleted_at is not None
    assert release.deleted_nodes_due(world.cluster) == []  # grace period: 60 s
    Node.objects.filter(pk=node.pk).update(deleted_at=timezone.now() - dt.timedelta(seconds=61))
    [due] = release.deleted_nodes_due(world.cluster)
    run = release.release_deleted_node(world.cluster, due)
    assert run.kind == GCRunKind.NODE_RELEASE and run.deleted == 2
    assert sorted(run.details["deleted"]) == sorted([first["eniId"], second["eniId"]])
    assert not branch_ids_in_ec2(world) & {first["eniId"], second["eniId"]}
    assert not BranchENI.objects.exclude(state=BranchENIState.DELETED).exists()
    assert Attachment.objects.filter(until__isnull=True).count() == 0
    assert release.deleted_nodes_due(world.cluster) == []
    assert GCRun.objects.filter(kind=GCRunKind.NODE_RELEASE).count() == 1


def test_release_of_a_pod_mid_attach_waits_for_the_attach(world):
    entry = attached(world, "p1")
    uid = world_uid(world, "p1")
    with held_elsewhere("pod", world.cluster.pk, uid):
        assert release.release_pod(world.cluster, uid) is None
    assert state_of(entry["eniId"]).state == BranchENIState.ATTACHED
    assert release.release_pod(world.cluster, uid) == 1


@pytest.mark.parametrize("state", [BranchENIState.CREATING])
def test_interrupted_attempt_of_a_gone_pod_is_released_too(world, state):
    world.add_pod("p1", 0)
    uid = world.pod("p1")["metadata"]["uid"]
    from apps.controller.branch_lifecycle import reserve_vlan
    from apps.inventory.models import TrunkENI

    node = Node.objects.get(name="node-0")
    reservation = reserve_vlan(world.cluster, node, TrunkENI.objects.get(node=node),
                               type("P", (), {"uid": uid, "namespace": "default",
                                              "name": "p1"})(), [])
    assert reservation.branch.state == state
    assert release.release_pod(world.cluster, uid) == 1
    age_cooldown()
    outcome = release.process_node_queue(world.cluster, "node-0", ec2=ec2_port_for(world.cluster))
    assert outcome.deleted == [f"vlan {reservation.branch.vlan_id}"]
