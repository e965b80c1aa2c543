"""Restart resync over the stand-ins (reference §4.8, §6.6 "Jobs" and "created while down"):
while the controller was down a pod was created, one deleted, one completed, one kept
running; and a wiped database rebuilt from EC2 and the cluster with no ENI made or lost."""

from __future__ import annotations

import json

import pytest

from apps.controller import release, resync
from apps.controller.core.constants import POD_ENI
from apps.controller.models import GCRunKind
from apps.controller.pod_attach import attach_pod
from apps.inventory.models import Attachment, BranchENI, BranchENIState, Node, Pod, TrunkENI

from .conftest import age_cooldown, associated_ids, attached, branch_ids_in_ec2


def live_rows():
    return {b.eni_id: b for b in BranchENI.objects.exclude(state=BranchENIState.DELETED)}


def test_the_four_restart_cases(world, ec2):
    running = attached(world, "running")
    deleted = attached(world, "deleted")
    completed = attached(world, "completed")
    # the controller is down: the cluster moves on without it
    world.core.delete_namespaced_pod("deleted", "default")
    world.core.patch_namespaced_pod_status("completed", "default",
                                           {"status": {"phase": "Succeeded"}})
    world.add_pod("created", 0)
    ec2.control.reset_counters()
    run = resync.resync_node(world.cluster, "node-0")
    assert run.kind == GCRunKind.RESYNC and run.error == ""
    rows = live_rows()
    # running across the restart: kept, VLAN marked, no duplicate
    assert rows[running["eniId"]].state == BranchENIState.ATTACHED
    assert rows[running["eniId"]].vlan_id == running["vlanId"]
    assert BranchENI.objects.filter(pod_name="running").exclude(
        state=BranchENIState.DELETED).count() == 1
    # deleted and completed while down: cooling, then deleted
    assert rows[deleted["eniId"]].state == BranchENIState.COOLING
    assert rows[completed["eniId"]].state == BranchENIState.COOLING
    assert sorted(run.details["cooled_pods"]) == sorted(
        [rows[deleted["eniId"]].pod_uid, rows[completed["eniId"]].pod_uid])
    # created while down: to be attached
    [[namespace, name, _uid]] = run.details["attach"]
    assert (namespace, name) == ("default", "created")
    assert ec2.control.calls("CreateNetworkInterface") == 0
    assert ec2.control.calls("DeleteNetworkInterface") == 0
    assert attach_pod(world.cluster, "default", "created").result == "attached"
    created = json.loads(world.pod("created")["metadata"]["annotations"][POD_ENI])[0]
    held = {running["vlanId"], deleted["vlanId"], completed["vlanId"]}
    assert created["vlanId"] not in held  # cooling branches still hold theirs
    age_cooldown()
    outcome = release.process_node_queue(world.cluster, "node-0")
    assert sorted(outcome.deleted) == sorted([deleted["eniId"], completed["eniId"]])
    assert branch_ids_in_ec2(world) == {running["eniId"], created["eniId"]}
    assert associated_ids(world) == {running["eniId"], created["eniId"]}


def test_resync_twice_changes_nothing(world, ec2):
    attached(world, "a")
    resync.resync_node(world.cluster, "node-0")
    before = {e: (b.state, b.vlan_id, b.pod_uid) for e, b in live_rows().items()}
    again = resync.resync_node(world.cluster, "node-0")
    assert again.details["summary"]["keep"] == 1
    assert sum(again.details["summary"].values()) == 1
    assert {e: (b.state, b.vlan_id, b.pod_uid) for e, b in live_rows().items()} == before


def wipe_database():
    Attachment.objects.all().delete()
    BranchENI.objects.all().delete()
    TrunkENI.objects.all().delete()
    Node.objects.all().delete()
    Pod.objects.all().delete()


def test_wiped_database_is_rebuilt_from_ec2_and_the_cluster(world, ec2):
    world.add_node(1)
    resync.reconcile_node(world.cluster, "node-1")
    enis = {name: attached(world, name, node) for name, node in
            (("a", 0), ("b", 0), ("c", 1))}
    trunks = {t.node.name: t.eni_id for t in TrunkENI.objects.select_related("node")}
    world.core.delete_namespaced_pod("b", "default")  # and one pod went away meanwhile
    wipe_database()
    ec2.control.reset_counters()
    runs = resync.resync_cluster(world.cluster)
    assert [r.node_name for r in runs] == ["node-0", "node-1"]
    assert all(r.error == "" for r in runs)
    assert ec2.control.calls("CreateNetworkInterface") == 0  # no trunk, no branch made
    assert ec2.control.calls("DeleteNetworkInterface") == 0
    assert ec2.control.calls("AssociateTrunkInterface") == 0
    assert {t.node.name: t.eni_id for t in TrunkENI.objects.select_related("node")} == trunks
    rows = live_rows()
    for name in ("a", "c"):
        row = rows[enis[name]["eniId"]]
        assert row.state == BranchENIState.ATTACHED and row.pod_name == name
        assert row.vlan_id == enis[name]["vlanId"]
        assert row.association_id == enis[name]["associationID"]
        assert row.private_ip == enis[name]["privateIp"] and row.mac == enis[name]["ifAddress"]
        assert Attachment.objects.get(eni_id=row.eni_id, until__isnull=True).pod_name == name
    orphan = rows[enis["b"]["eniId"]]
    assert orphan.state == BranchENIState.COOLING and orphan.vlan_id == enis["b"]["vlanId"]
    # the next pod gets a VLAN no live branch holds
    world.add_pod("d", 0)
    assert attach_pod(world.cluster, "default", "d").result == "attached"
    d = json.loads(world.pod("d")["metadata"]["annotations"][POD_ENI])[0]
    assert d["vlanId"] not in {enis["a"]["vlanId"], enis["b"]["vlanId"]}
    age_cooldown()
    release.process_node_queue(world.cluster, "node-0")
    assert branch_ids_in_ec2(world) == {enis["a"]["eniId"], enis["c"]["eniId"], d["eniId"]}


def test_stale_annotation_is_reported_on_the_pod(world):
    entry = attached(world, "p1")
    world.ec2_seeder.disassociate_trunk_interface(AssociationId=entry["associationID"])
    world.ec2_seeder.delete_network_interface(NetworkInterfaceId=entry["eniId"])
    run = resync.resync_node(world.cluster, "node-0")
    assert run.details["forgotten"] == [entry["eniId"]]
    assert run.details["stale"] == [[BranchENI.objects.get(eni_id=entry["eniId"]).pod_uid,
                                     entry["eniId"]]]
    assert BranchENI.objects.get(eni_id=entry["eniId"]).state == BranchENIState.DELETED
    assert any(reason == "BranchENINotFound" for _, reason, _ in world.events("p1"))


def test_unmanaged_node_is_skipped(world):
    world.add_node(1, label=False)
    run = resync.resync_node(world.cluster, "node-1")
    assert run.details["skipped"]


@pytest.mark.parametrize("gone", ["node"])
def test_resync_cluster_marks_nodes_the_cluster_lost(world, gone):
    world.core.delete_node("node-0")
    resync.resync_cluster(world.cluster)
    assert Node.objects.get(name="node-0").deleted_at is not None


def test_an_attach_that_creates_its_eni_after_the_ec2_read_keeps_its_row(world, ec2,
                                                                        monkeypatch):
    """The attach runs alongside the resync: it reserved its VLAN before the resync read EC2
    and creates its ENI (checkpointing the row) after, so the resync must not take the row for
    one whose ENI EC2 lost."""
    from botocore.exceptions import ClientError

    def fail(action):
        ec2.control.configure(faults=[{"actions": [action], "rate": 1.0,
                                       "code": "InternalError", "status": 500}])

    world.add_pod("racing", 0)
    fail("CreateNetworkInterface")
    with pytest.raises(ClientError):  # the reservation stays, to be resumed
        attach_pod(world.cluster, "default", "racing")
    read = resync.read_ec2

    def read_then_the_attach_creates_its_eni(ec2_port, trunk_eni_id):
        view = read(ec2_port, trunk_eni_id)
        fail("AssociateTrunkInterface")
        with pytest.raises(ClientError):  # the resumed attempt creates the ENI, then stops
            attach_pod(world.cluster, "default", "racing")
        ec2.control.configure(faults=[])
        return view

    monkeypatch.setattr(resync, "read_ec2", read_then_the_attach_creates_its_eni)
    resync.resync_node(world.cluster, "node-0")
    [row] = BranchENI.objects.filter(pod_name="racing")
    assert row.state == BranchENIState.CREATING and row.eni_id in branch_ids_in_ec2(world)
    assert attach_pod(world.cluster, "default", "racing").result == "attached"
    row.refresh_from_db()
    assert row.state == BranchENIState.ATTACHED
