"""A node name that comes back on another instance (EKS names nodes after their private IP):
the old instance's trunk is retired, its branches released, and the node gets a new trunk."""

from __future__ import annotations

from apps.controller.core.constants import TRUNK_LABEL
from apps.controller.inventory_sync import NodeWork, apply_node
from apps.controller.models import GCRun, GCRunKind
from apps.controller.node_reconcile import reconcile_node
from apps.controller.pod_attach import attach_pod
from apps.inventory.models import LIVE_BRANCH_STATES, BranchENI, Node, TrunkENI

from .conftest import associated_ids, attached, held_elsewhere


def trunk_ids_of(world, instance_id: str) -> list[str]:
    return [ni["NetworkInterfaceId"] for ni in world.ec2_seeder.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["NetworkInterfaces"]
        if ni.get("InterfaceType") == "trunk"]


def recycle_node_0(world) -> str:
    """node-0 leaves with its pods and its instance (the controller hears nothing) and comes
    back on the second instance; the watcher records the node as the API server has it now."""
    for pod in world.core.list_namespaced_pod("default").items:
        world.core.delete_namespaced_pod(pod.metadata.name, "default")
    world.core.delete_node("node-0")
    world.ec2_seeder.terminate_instances(InstanceIds=[world.instances[0].instance_id])
    new = world.instances[1]
    body = {"metadata": {"name": "node-0", "labels": {
                "kubernetes.io/os": "linux", TRUNK_LABEL: "false",
                "node.kubernetes.io/instance-type": new.instance_type}},
            "spec": {"providerID": f"aws:///us-west-2a/{new.instance_id}"},
            "status": {"capacity": {"cpu": "2"}}}
    created = world.core.api_client.sanitize_for_serialization(world.core.create_node(body))
    assert apply_node(world.cluster, "ADDED", created) == [NodeWork("node-0")]
    return new.instance_id


def test_a_recycled_node_name_gets_a_trunk_on_its_new_instance(world):
    old_instance = world.instances[0].instance_id
    old_trunk = TrunkENI.objects.get(node__name="node-0")
    assert old_trunk.instance_id == old_instance
    old = attached(world, "p1")
    new_instance = recycle_node_0(world)
    assert Node.objects.get(name="node-0").instance_id == new_instance

    world.add_pod("early", 0)  # before the node reconcile: not onto the old trunk
    assert attach_pod(world.cluster, "default", "early").result == "requeue"

    outcome = reconcile_node(world.cluster, "node-0")
    [new_trunk_id] = trunk_ids_of(world, new_instance)
    assert outcome.managed and outcome.trunk_eni_id == new_trunk_id != old_trunk.eni_id
    trunk = TrunkENI.objects.get(node__name="node-0")
    assert (trunk.eni_id, trunk.instance_id) == (new_trunk_id, new_instance)
    node = Node.objects.get(name="node-0")
    assert node.subnet_id == world.instances[1].subnet_id != world.instances[0].subnet_id
    assert node.subnet_cidr == "10.0.16.0/20"

    retired = TrunkENI.objects.get(pk=old_trunk.pk)
    assert retired.node is None and retired.instance_id == old_instance
    assert not BranchENI.objects.filter(trunk=retired, state__in=LIVE_BRANCH_STATES).exists()
    assert old["eniId"] not in associated_ids(world)
    run = GCRun.objects.get(kind=GCRunKind.NODE_RELEASE, node_name="node-0")
    assert run.details["retired_trunk"] == old_trunk.eni_id and run.deleted == 1

    new = attached(world, "p2")
    branch = BranchENI.objects.get(eni_id=new["eniId"])
    assert branch.trunk_id == trunk.pk and branch.subnet_cidr == "10.0.16.0/20"
    assert new["eniId"] in associated_ids(world)
    assert reconcile_node(world.cluster, "node-0").trunk_eni_id == new_trunk_id  # settled


def test_the_old_trunk_stays_while_an_attach_on_it_is_in_progress(world):
    attached(world, "p1")
    row = BranchENI.objects.get(pod_name="p1")
    BranchENI.objects.filter(pk=row.pk).update(state="creating")
    old_trunk = TrunkENI.objects.get(node__name="node-0")
    recycle_node_0(world)
    with held_elsewhere("pod", world.cluster.pk, row.pod_uid):
        outcome = reconcile_node(world.cluster, "node-0")
    assert outcome.busy and not outcome.managed
    assert TrunkENI.objects.get(node__name="node-0").pk == old_trunk.pk
    outcome = reconcile_node(world.cluster, "node-0")  # the attempt is over: retired now
    assert outcome.managed and outcome.trunk_eni_id != old_trunk.eni_id
    assert BranchENI.objects.get(pk=row.pk).state not in LIVE_BRANCH_STATES
