"""Pod attach over the stand-ins (reference §4.2 step by step, §6.3 checklist)."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import ChangeRecord
from apps.controller.core.constants import BRANCH_DESCRIPTION, POD_ENI
from apps.controller.inventory_sync import PodRelease, apply_pod
from apps.controller.node_reconcile import reconcile_node
from apps.controller.pod_attach import attach_pod
from apps.controller.release import release_pod
from apps.inventory.models import Attachment, BranchENI, BranchENIState, Node, ServiceAccount
from apps.policies.models import Policy


@pytest.fixture
def ready(world):
    world.add_node(0)
    reconcile_node(world.cluster, "node-0")
    return world


def annotation(world, name):
    value = world.pod(name)["metadata"].get("annotations", {}).get(POD_ENI)
    return json.loads(value) if value else None


def branch_enis(world):
    return world.ec2_seeder.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [BRANCH_DESCRIPTION]}])["NetworkInterfaces"]


def associations(world):
    return world.ec2_seeder.describe_trunk_interface_associations()["InterfaceAssociations"]


def add_policy(world, name, groups, selector):
    return Policy.objects.create(cluster=world.cluster, namespace="default", name=name,
                                 spec={"podSelector": selector,
                                       "securityGroups": {"groupIds": groups}})


def test_happy_path_annotates_with_all_keys_and_records_rows(ready):
    world = ready
    add_policy(world, "web", [world.group_ids["web"]], {"matchLabels": {"app": "web"}})
    world.add_pod("p1", 0, labels={"app": "web"})
    outcome = attach_pod(world.cluster, "default", "p1")
    assert outcome.result == "attached"
    [entry] = annotation(world, "p1")
    assert list(entry) == ["eniId", "ifAddress", "privateIp", "ipv6Addr", "vlanId",
                           "subnetCidr", "subnetV6Cidr", "associationID"]
    assert entry["vlanId"] == 1 and entry["subnetCidr"] == "10.0.0.0/20"
    [eni] = branch_enis(world)
    assert eni["NetworkInterfaceId"] == entry["eniId"]
    assert eni["MacAddress"] == entry["ifAddress"] and eni["PrivateIpAddress"] == entry["privateIp"]
    assert [g["GroupId"] for g in eni["Groups"]] == [world.group_ids["web"]]
    trunk_id = Node.objects.get(name="node-0").trunk.eni_id
    tags = {t["Key"]: t["Value"] for t in eni["TagSet"]}
    assert tags == {"vpcresources.k8s.aws/vlan-id": "1",
                    "vpcresources.k8s.aws/trunk-eni-id": trunk_id,
                    "node.k8s.amazonaws.com/instance_id": world.instances[0].instance_id,
                    "eks:eni:owner": "eks-vpc-resource-controller",
                    "kubernetes.io/cluster/demo": "owned"}
    [assoc] = associations(world)
    assert (assoc["BranchInterfaceId"], assoc["TrunkInterfaceId"], assoc["VlanId"]) == (
        entry["eniId"], trunk_id, 1)
    assert assoc["AssociationId"] == entry["associationID"]
    branch = BranchENI.objects.get(eni_id=entry["eniId"])
    assert branch.state == BranchENIState.ATTACHED and branch.pod_uid == world.pod("p1")[
        "metadata"]["uid"]
    attachment = Attachment.objects.get(eni_id=entry["eniId"])
    assert attachment.until is None and attachment.private_ip == entry["privateIp"]
    events = world.events("p1")
    assert events[0] == ("Normal", "SecurityGroupRequested",
                         f"Pod will get the following Security Groups [{world.group_ids['web']}]")
    assert events[1][:2] == ("Normal", "ResourceAllocated")
    assert events[1][2] == f"Allocated {world.pod('p1')['metadata']['annotations'][POD_ENI]} to the pod"


def test_the_attached_transition_is_audited_from_the_row_as_stored(ready):
    world = ready
    world.add_pod("p1", 0)
    attach_pod(world.cluster, "default", "p1")
    branch = BranchENI.objects.get(pod_uid=world.pod("p1")["metadata"]["uid"])
    [update] = ChangeRecord.objects.filter(
        object_type=ContentType.objects.get_for_model(BranchENI), object_id=str(branch.pk),
        action=ChangeRecord.Action.UPDATE)
    # before: the reservation as the progress checkpoint left it (ENI id, MAC and IP, no
    # association); after: the same row attached.
    assert update.before["state"] == BranchENIState.CREATING
    assert (update.before["eni_id"], update.before["mac"], update.before["private_ip"]) == (
        branch.eni_id, branch.mac, branch.private_ip)
    assert update.before["association_id"] == ""
    assert update.after["state"] == BranchENIState.ATTACHED
    assert update.after["association_id"] == branch.association_id
    assert update.actor_name == "controller"


@pytest.mark.postgres
def test_the_vlan_reservation_locks_the_trunk_row_only(ready):
    if connection.vendor != "postgresql":
        pytest.skip("runs with DATABASE_URL=postgres://... (SQLite has no row locks)")
    world = ready
    world.add_pod("p1", 0)
    with CaptureQueriesContext(connection) as captured:
        assert attach_pod(world.cluster, "default", "p1").result == "attached"
    [lock] = [q["sql"] for q in captured.captured_queries if "FOR UPDATE" in q["sql"]]
    # A join would lock the joined rows too: the node's, and the cluster's that every
    # reservation of the cluster shares.
    assert "JOIN" not in lock and '"inventory_trunkeni"' in lock


def test_no_matching_policy_uses_node_groups_with_a_warning(ready):
    world = ready
    world.add_pod("p1", 0)
    attach_pod(world.cluster, "default", "p1")
    [eni] = branch_enis(world)
    assert [g["GroupId"] for g in eni["Groups"]] == [world.node_group_id]
    assert world.events("p1")[0][:2] == ("Warning", "SecurityGroupRequested")


def test_service_account_selector_uses_service_account_labels(ready):
    world = ready
    ServiceAccount.objects.create(cluster=world.cluster, namespace="default", name="payer",
                                  labels={"team": "pay"})
    Policy.objects.create(cluster=world.cluster, namespace="default", name="sa", spec={
        "serviceAccountSelector": {"matchLabels": {"team": "pay"}},
        "securityGroups": {"groupIds": [world.group_ids["db"]]}})
    world.add_pod("p1", 0, service_account="payer")
    attach_pod(world.cluster, "default", "p1")
    assert [g["GroupId"] for g in branch_enis(world)[0]["Groups"]] == [world.group_ids["db"]]


def test_vlans_are_lowest_free_and_attach_is_idempotent(ready, ec2):
    world = ready
    for name in ("a", "b", "c"):
        world.add_pod(name, 0)
        attach_pod(world.cluster, "default", name)
    assert [annotation(world, n)[0]["vlanId"] for n in ("a", "b", "c")] == [1, 2, 3]
    ec2.control.reset_counters()
    assert attach_pod(world.cluster, "default", "b").result == "ignored"
    assert ec2.control.counters()["calls"] == {}
    assert len(branch_enis(world)) == 3


def test_annotated_on_the_api_server_is_skipped(ready, ec2):
    world = ready
    world.add_pod("p1", 0)
    world.core.patch_namespaced_pod("p1", "default",
                                    {"metadata": {"annotations": {POD_ENI: "[]"}}})
    assert attach_pod(world.cluster, "default", "p1").result == "ignored"
    assert branch_enis(world) == []


def test_unscheduled_and_not_requesting_pods_are_ignored(ready):
    world = ready
    world.add_pod("pending", None)
    world.add_pod("plain", 0, eni=False)
    assert attach_pod(world.cluster, "default", "pending").result == "ignored"
    assert attach_pod(world.cluster, "default", "plain").result == "ignored"
    assert branch_enis(world) == []


def test_pod_on_unmanaged_node_is_requeued_after_a_second(world):
    world.add_node(1, label=False)
    reconcile_node(world.cluster, "node-1")
    world.add_pod("p1", 1)
    outcome = attach_pod(world.cluster, "default", "p1")
    assert (outcome.result, outcome.requeue_after) == ("requeue", 1.0)


def test_full_trunk_requeues_after_the_cooldown_without_an_event(ready):
    world = ready
    Node.objects.filter(name="node-0").update(branch_capacity=2)
    world.cluster.branch_cooldown_seconds = 45
    world.cluster.save()
    for name in ("a", "b", "c"):
        world.add_pod(name, 0)
    attach_pod(world.cluster, "default", "a")
    attach_pod(world.cluster, "default", "b")
    BranchENI.objects.filter(pod_name="b").update(state=BranchENIState.COOLING)
    outcome = attach_pod(world.cluster, "default", "c")
    assert (outcome.result, outcome.requeue_after) == ("requeue", 45)
    assert world.events("c") == []
    assert annotation(world, "c") is None


@pytest.mark.parametrize("action", ["CreateNetworkInterface", "AssociateTrunkInterface"])
def test_allocation_failure_leaves_no_orphan_and_frees_the_vlan(ready, ec2, action):
    world = ready
    world.add_pod("p1", 0)
    ec2.control.configure(faults=[{"actions": [action], "count": 1,
                                   "code": "InvalidParameterValue", "status": 400}])
    with pytest.raises(Exception, match="InvalidParameterValue"):
        attach_pod(world.cluster, "default", "p1")
    assert branch_enis(world) == [] and associations(world) == []
    assert not BranchENI.objects.exclude(state=BranchENIState.DELETED).exists()
    assert world.events("p1")[-1][:2] == ("Warning", "BranchAllocationFailed")
    assert attach_pod(world.cluster, "default", "p1").result == "attached"
    assert annotation(world, "p1")[0]["vlanId"] == 1  # the failed attempt's VLAN was freed


def test_throttling_is_retried_without_a_pod_event_and_resumes(ready, ec2):
    world = ready
    world.add_pod("p1", 0)
    ec2.control.configure(faults=[{"actions": ["AssociateTrunkInterface"], "count": 5,
                                   "code": "RequestLimitExceeded", "status": 503}])
    with pytest.raises(Exception, match="RequestLimitExceeded"):
        attach_pod(world.cluster, "default", "p1")  # botocore's 3 attempts used up
    assert ec2.control.calls("AssociateTrunkInterface", "RequestLimitExceeded") == 3
    assert [r for _, r, _ in world.events("p1")] == ["SecurityGroupRequested"]
    [held] = BranchENI.objects.all()
    assert held.state == BranchENIState.CREATING and held.eni_id
    ec2.control.reset_counters()
    assert attach_pod(world.cluster, "default", "p1").result == "attached"
    calls = ec2.control.counters()["calls"]
    assert "CreateNetworkInterface" not in calls  # resumed, not recreated
    assert len(branch_enis(world)) == 1


def test_recreated_pod_is_not_annotated_with_the_old_uid(ready):
    world = ready
    old = world.add_pod("p1", 0)
    world.core.delete_namespaced_pod("p1", "default")
    world.add_pod("p1", 0)
    outcome = attach_pod(world.cluster, "default", "p1", uid=old["metadata"]["uid"])
    assert outcome.result == "gone"
    assert annotation(world, "p1") is None and branch_enis(world) == []


def test_annotation_refused_for_a_changed_uid_discards_the_branch(ready, monkeypatch):
    world = ready
    world.add_pod("p1", 0)
    from apps.controller import pod_attach

    original = pod_attach._annotate

    def recreate_then_annotate(port, live, value):
        world.core.delete_namespaced_pod("p1", "default")
        world.add_pod("p1", 0)
        return original(port, live, value)

    monkeypatch.setattr(pod_attach, "_annotate", recreate_then_annotate)
    outcome = attach_pod(world.cluster, "default", "p1")
    assert outcome.result == "gone"
    assert annotation(world, "p1") is None
    assert branch_enis(world) == [] and associations(world) == []
    assert world.events("p1")[-1][:2] == ("Warning", "BranchENIAnnotationFailed")
    assert BranchENI.objects.get().state == BranchENIState.DELETED


def test_deleted_pod_starts_the_cooldown_and_closes_its_attachment(ready):
    world = ready
    uid = world.add_pod("p1", 0)["metadata"]["uid"]
    attach_pod(world.cluster, "default", "p1")
    obj = world.pod("p1")
    world.core.delete_namespaced_pod("p1", "default")
    assert apply_pod(world.cluster, "DELETED", obj) == [PodRelease(uid)]  # the watcher's part
    assert attach_pod(world.cluster, "default", "p1", uid=uid).release_uid == uid
    assert release_pod(world.cluster, uid) == 1  # the release worker's part (issue 4)
    branch = BranchENI.objects.get(pod_uid=uid)
    assert branch.state == BranchENIState.COOLING and branch.cooling_since is not None
    assert Attachment.objects.get(pod_uid=uid).until is not None
    assert len(branch_enis(world)) == 1  # deletion waits for the cooldown (release worker)


def test_completed_pod_is_released_not_attached(ready):
    world = ready
    uid = world.add_pod("job", 0)["metadata"]["uid"]
    attach_pod(world.cluster, "default", "job")
    world.core.patch_namespaced_pod_status("job", "default", {"status": {"phase": "Succeeded"}})
    assert attach_pod(world.cluster, "default", "job", uid=uid).result == "ignored"  # annotated
    from apps.inventory.models import Pod

    Pod.objects.filter(uid=uid).update(pod_eni_annotation=None)  # as if the cache were cold
    world.core.patch_namespaced_pod("job", "default", {"metadata": {"annotations": {
        POD_ENI: None}}})
    outcome = attach_pod(world.cluster, "default", "job", uid=uid)
    assert (outcome.result, outcome.release_uid) == ("release", uid)
    assert BranchENI.objects.get(pod_uid=uid).state == BranchENIState.ATTACHED  # not here
    assert annotation(world, "job") is None and len(branch_enis(world)) == 1


def permissions(world, eni_id):
    return world.ec2_seeder.describe_network_interface_permissions(Filters=[
        {"Name": "network-interface-permission.network-interface-id", "Values": [eni_id]}],
    )["NetworkInterfacePermissions"]


@pytest.mark.parametrize("action", ["CreateNetworkInterfacePermission",
                                    "AssociateTrunkInterface"])
def test_resumed_attempt_grants_the_permission_exactly_once(ready, ec2, action):
    world = ready
    world.add_pod("p1", 0)
    ec2.control.configure(faults=[{"actions": [action], "count": 3,
                                   "code": "RequestLimitExceeded", "status": 503}])
    with pytest.raises(Exception, match="RequestLimitExceeded"):
        attach_pod(world.cluster, "default", "p1")
    assert attach_pod(world.cluster, "default", "p1").result == "attached"
    [entry] = annotation(world, "p1")
    [granted] = permissions(world, entry["eniId"])
    assert granted["Permission"] == "INSTANCE-ATTACH"


def test_a_resumed_attempt_never_takes_an_orphan_with_other_groups(ready, ec2):
    from apps.controller.core.constants import TAG_TRUNK_ENI_ID, TAG_VLAN_ID
    from apps.inventory.models import TrunkENI

    world = ready
    world.add_pod("p1", 0)
    # The attempt stops at the create (botocore's three attempts all fail).
    ec2.control.configure(faults=[{"actions": ["CreateNetworkInterface"], "count": 3,
                                   "code": "InternalError", "status": 500, "when": "before"}])
    with pytest.raises(Exception, match="InternalError"):
        attach_pod(world.cluster, "default", "p1")
    [held] = BranchENI.objects.all()
    assert held.state == BranchENIState.CREATING and not held.eni_id
    # An older orphan on the same trunk and VLAN, carrying another pod's groups.
    trunk = TrunkENI.objects.get(node__name="node-0")
    node = Node.objects.get(name="node-0")
    vpc = world.ec2_seeder.describe_subnets(SubnetIds=[node.subnet_id])["Subnets"][0]["VpcId"]
    other = world.ec2_seeder.create_security_group(
        VpcId=vpc, GroupName="someone-else", Description="another pod's group")["GroupId"]
    orphan = world.ec2_seeder.create_network_interface(
        SubnetId=node.subnet_id, Groups=[other], Description=BRANCH_DESCRIPTION,
        TagSpecifications=[{"ResourceType": "network-interface", "Tags": [
            {"Key": TAG_TRUNK_ENI_ID, "Value": trunk.eni_id},
            {"Key": TAG_VLAN_ID, "Value": str(held.vlan_id)}]}],
    )["NetworkInterface"]["NetworkInterfaceId"]
    ec2.control.configure(faults=[])

    assert attach_pod(world.cluster, "default", "p1").result == "attached"

    [entry] = annotation(world, "p1")
    assert entry["eniId"] != orphan
    eni = world.ec2_seeder.describe_network_interfaces(
        NetworkInterfaceIds=[entry["eniId"]])["NetworkInterfaces"][0]
    assert sorted(g["GroupId"] for g in eni["Groups"]) == sorted(held.security_group_ids)


def _patch_then_break(world, monkeypatch, applied: bool, error: Exception):
    """The annotation patch ends with ``error``, after reaching the API server or not."""
    from apps.controller.ports.cluster import ClusterPort

    original = ClusterPort.annotate_pod

    def annotate(self, *args, **kwargs):
        if applied:
            original(self, *args, **kwargs)
        raise error

    monkeypatch.setattr(ClusterPort, "annotate_pod", annotate)
    return original


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_a_patch_that_broke_off_keeps_the_branch_and_the_retry_finishes(
        ready, monkeypatch, applied):
    """A connection reset after the PATCH was sent says nothing of whether it was applied:
    the branch is kept (never deleted under an annotation that names it), and the retry
    either records the annotation it finds or annotates the pod."""
    from urllib3.exceptions import ProtocolError

    world = ready
    uid = world.add_pod("p1", 0)["metadata"]["uid"]
    _patch_then_break(world, monkeypatch, applied, ProtocolError("Connection aborted."))
    with pytest.raises(ProtocolError):
        attach_pod(world.cluster, "default", "p1", uid)
    [branch] = BranchENI.objects.all()
    assert branch.state == BranchENIState.ATTACHED and len(branch_enis(world)) == 1
    assert "BranchENIAnnotationFailed" not in [r for _, r, _ in world.events("p1")]
    if applied:  # the watcher mirrors the annotation it sees before the retry runs
        apply_pod(world.cluster, "MODIFIED", world.pod("p1"))
    monkeypatch.undo()
    outcome = attach_pod(world.cluster, "default", "p1", uid)
    assert outcome.result == ("ignored" if applied else "attached")
    [entry] = annotation(world, "p1")
    assert entry["eniId"] == branch.eni_id and len(branch_enis(world)) == 1
    [row] = Attachment.objects.filter(pod_uid=uid)
    assert row.eni_id == branch.eni_id and row.until is None


def test_a_throttled_patch_is_retried_not_taken_for_a_refusal(ready, monkeypatch):
    from kubernetes.client.exceptions import ApiException

    from apps.controller.tasks import is_retryable

    world = ready
    world.add_pod("p1", 0)
    throttled = ApiException(status=429, reason="Too Many Requests")
    _patch_then_break(world, monkeypatch, False, throttled)
    with pytest.raises(ApiException):
        attach_pod(world.cluster, "default", "p1")
    assert is_retryable(throttled)
    assert BranchENI.objects.get().state == BranchENIState.ATTACHED
    monkeypatch.undo()
    assert attach_pod(world.cluster, "default", "p1").result == "attached"
    assert len(branch_enis(world)) == 1


def test_a_refused_patch_discards_the_branch(ready, monkeypatch):
    from kubernetes.client.exceptions import ApiException

    world = ready
    world.add_pod("p1", 0)
    _patch_then_break(world, monkeypatch, False, ApiException(status=422, reason="Invalid"))
    with pytest.raises(ApiException):
        attach_pod(world.cluster, "default", "p1")
    assert BranchENI.objects.get().state == BranchENIState.DELETED
    assert branch_enis(world) == []
    assert world.events("p1")[-1][:2] == ("Warning", "BranchENIAnnotationFailed")
