"""Node reconcile over the stand-ins: managed rule, trunk find-or-create, capacity, events."""

import pytest

from apps.controller.core.constants import POD_ENI, TRUNK_DESCRIPTION
from apps.controller.node_reconcile import reconcile_node
from apps.inventory.models import Node, TrunkENI


def trunk_enis(world, instance_id):
    return [ni for ni in world.ec2_seeder.describe_network_interfaces(Filters=[
        {"Name": "attachment.instance-id", "Values": [instance_id]}])["NetworkInterfaces"]
        if ni.get("InterfaceType") == "trunk"]


def reasons(world, node_name):
    return [r for _, r, _ in world.events(node_name)]


def test_labelled_node_gets_a_trunk_capacity_and_events(world):
    world.add_node(0)
    outcome = reconcile_node(world.cluster, "node-0")
    assert outcome.managed
    [trunk] = trunk_enis(world, world.instances[0].instance_id)
    assert trunk["Description"] == TRUNK_DESCRIPTION
    assert trunk["Attachment"]["DeviceIndex"] == 2  # m5.large: 3 slots, highest free
    assert trunk["Attachment"]["DeleteOnTermination"] is True
    tags = {t["Key"]: t["Value"] for t in trunk["TagSet"]}
    assert tags == {"node.k8s.amazonaws.com/instance_id": world.instances[0].instance_id,
                    "eks:eni:owner": "eks-vpc-resource-controller",
                    "kubernetes.io/cluster/demo": "owned"}
    assert [g["GroupId"] for g in trunk["Groups"]] == [world.node_group_id]
    row = Node.objects.get(cluster=world.cluster, name="node-0")
    assert row.managed and row.branch_capacity == 9
    assert row.subnet_cidr == "10.0.0.0/20" and row.account_id
    assert TrunkENI.objects.get(node=row).eni_id == trunk["NetworkInterfaceId"]
    node = world.core.read_node("node-0")
    assert node.status.capacity[POD_ENI] == "9"
    assert node.status.capacity["cpu"] == "2"
    assert reasons(world, "node-0") == ["ControllerVersionNotice", "NodeTrunkInitiated"]


def test_second_reconcile_reuses_the_trunk_and_writes_nothing(world, ec2):
    world.add_node(0)
    reconcile_node(world.cluster, "node-0")
    version = world.core.read_node("node-0").metadata.resource_version
    ec2.control.reset_counters()
    reconcile_node(world.cluster, "node-0")
    assert len(trunk_enis(world, world.instances[0].instance_id)) == 1
    assert world.core.read_node("node-0").metadata.resource_version == version
    assert ec2.control.counters()["calls"] == {}


def test_existing_trunk_is_found_after_losing_the_database_row(world):
    world.add_node(0)
    first = reconcile_node(world.cluster, "node-0").trunk_eni_id
    TrunkENI.objects.all().delete()
    assert reconcile_node(world.cluster, "node-0").trunk_eni_id == first
    assert len(trunk_enis(world, world.instances[0].instance_id)) == 1


def test_cninode_feature_also_makes_the_node_managed(world):
    world.add_node(1, label=False, feature=True)
    assert reconcile_node(world.cluster, "node-1").managed


def test_node_without_consent_is_left_alone(world):
    world.add_node(0, label=False)
    assert not reconcile_node(world.cluster, "node-0").managed
    assert trunk_enis(world, world.instances[0].instance_id) == []
    assert reasons(world, "node-0") == []
    assert POD_ENI not in world.core.read_node("node-0").status.capacity


@pytest.mark.parametrize("instance_type,message", [
    ("zz9.large", "not supported yet by the vpc resource controller"),
    ("t3.micro", "not supported for trunk interface (Security Group for Pods)"),
])
def test_unsupported_types_get_one_warning(world, instance_type, message):
    world.add_node(0, instance_type=instance_type)
    reconcile_node(world.cluster, "node-0")
    reconcile_node(world.cluster, "node-0")
    events = world.events("node-0")
    assert len(events) == 1
    assert events[0][:2] == ("Warning", "Unsupported") and message in events[0][2]


def test_failed_trunk_creation_cleans_up_and_reports(world, ec2):
    world.add_node(0)
    ec2.control.configure(faults=[{"actions": ["AttachNetworkInterface"], "count": 1,
                                   "code": "UnauthorizedOperation", "status": 403}])
    with pytest.raises(Exception, match="UnauthorizedOperation"):
        reconcile_node(world.cluster, "node-0")
    leftovers = world.ec2_seeder.describe_network_interfaces(Filters=[
        {"Name": "interface-type", "Values": ["trunk"]}])["NetworkInterfaces"]
    assert leftovers == []
    events = world.events("node-0")
    assert [r for _, r, _ in events] == ["ControllerVersionNotice", "NodeTrunkFailedInit",
                                         "TrunkENICreationFailed"]
    assert "AmazonEKSVPCResourceController" in events[2][2]
    assert not Node.objects.get(name="node-0").managed
    assert reconcile_node(world.cluster, "node-0").managed  # the next attempt succeeds
