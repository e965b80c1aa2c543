"""The managed-node rule, node events, capacity and trunk placement (reference §3.1-§3.4)."""

import pytest

from apps.controller.core.constants import POD_ENI, SGP_FEATURE, TRUNK_LABEL
from apps.controller.core.model import EventType, InstanceInterface, InstanceLimit, NodeFacts
from apps.controller.core.node_plan import (
    decide_node,
    instance_id_of,
    node_capacity_patch,
    trunk_creation_failed,
)
from apps.controller.core.trunk_plan import (
    CreateTrunk,
    TrunkPlanError,
    UseTrunk,
    plan_trunk,
    primary_interface,
)

M5_LARGE = InstanceLimit("m5.large", 3, 10, True, 9, 3, "nitro")
T3_MICRO = InstanceLimit("t3.micro", 2, 2, False, 0, 2, "nitro")


def node(labels=None, features=(), provider="aws:///us-west-2a/i-0abc", itype="m5.large",
         capacity=None):
    base = {"kubernetes.io/os": "linux"}
    base.update(labels or {})
    return NodeFacts(name="n1", labels=base, provider_id=provider, instance_type=itype,
                     cninode_features=tuple(features), capacity=capacity)


def test_instance_id_is_the_last_provider_id_segment():
    assert instance_id_of("aws:///us-west-2c/i-0123456789") == "i-0123456789"
    assert instance_id_of("") == ""


@pytest.mark.parametrize("facts", [
    node(labels={TRUNK_LABEL: "false"}),  # legacy label, any value
    node(labels={TRUNK_LABEL: "true"}),
    node(features=[SGP_FEATURE]),
])
def test_label_or_cninode_feature_makes_a_linux_trunk_type_managed(facts):
    decision = decide_node(facts, M5_LARGE)
    assert decision.managed
    assert decision.branch_limit == 9
    assert decision.instance_id == "i-0abc"
    assert decision.events == ()


def test_beta_os_label_counts():
    facts = NodeFacts("n", {"beta.kubernetes.io/os": "linux", TRUNK_LABEL: "x"},
                      "aws:///z/i-1", "m5.large")
    assert decide_node(facts, M5_LARGE).managed


def test_not_asked_for_is_unmanaged_without_events():
    decision = decide_node(node(), M5_LARGE)
    assert not decision.managed and decision.events == ()


@pytest.mark.parametrize("facts", [
    node(labels={TRUNK_LABEL: "x"}, provider=""),
    NodeFacts("n", {TRUNK_LABEL: "x"}, "aws:///z/i-1", "m5.large"),  # no OS label
    node(labels={TRUNK_LABEL: "x", "eks.amazonaws.com/compute-type": "auto"}),
])
def test_missing_instance_id_or_os_or_auto_mode_is_unmanaged(facts):
    decision = decide_node(facts, M5_LARGE)
    assert not decision.managed and decision.events == ()


def test_unknown_type_warns_not_supported_yet():
    decision = decide_node(node(labels={TRUNK_LABEL: "x"}, itype="zz9.huge"), None)
    assert not decision.managed
    [event] = decision.events
    assert (event.type, event.reason) == (EventType.WARNING, "Unsupported")
    assert event.message == ("The instance type zz9.huge is not supported yet by the vpc "
                             "resource controller")


def test_non_trunk_type_and_windows_warn_not_supported_for_trunk():
    for facts, limit in [(node(labels={TRUNK_LABEL: "x"}, itype="t3.micro"), T3_MICRO),
                         (node(labels={TRUNK_LABEL: "x", "kubernetes.io/os": "windows"}),
                          M5_LARGE)]:
        decision = decide_node(facts, limit)
        assert not decision.managed
        [event] = decision.events
        assert event.reason == "Unsupported"
        assert "not supported for trunk interface (Security Group for Pods)" in event.message


def test_capacity_patched_only_for_managed_nodes_and_only_when_different():
    managed = node(labels={TRUNK_LABEL: "x"})
    decision = decide_node(managed, M5_LARGE)
    assert node_capacity_patch(managed, decision) == {"status": {"capacity": {POD_ENI: "9"}}}
    already = node(labels={TRUNK_LABEL: "x"}, capacity={POD_ENI: "9", "cpu": "2"})
    assert node_capacity_patch(already, decision) is None
    unmanaged = node()
    assert node_capacity_patch(unmanaged, decide_node(unmanaged, M5_LARGE)) is None


def test_trunk_creation_failed_mentions_iam_only_for_unauthorized():
    assert trunk_creation_failed("InternalError").message == (
        "Failed to create trunk interface: Error Code: InternalError")
    assert "AmazonEKSVPCResourceController" in trunk_creation_failed(
        "UnauthorizedOperation").message
    assert trunk_creation_failed("X").type is EventType.WARNING


def iface(eni, index, itype="interface", status="attached", ip=""):
    return InstanceInterface(eni, index, itype, status, ip)


def test_existing_trunk_is_found_by_interface_type():
    plan = plan_trunk([iface("eni-p", 0), iface("eni-t", 2, "trunk", "attaching")], 3)
    assert plan == UseTrunk("eni-t", attached=False)


def test_new_trunk_goes_to_the_highest_free_index():
    assert plan_trunk([iface("eni-p", 0)], 3) == CreateTrunk(2)
    assert plan_trunk([iface("eni-p", 0), iface("eni-x", 2)], 3) == CreateTrunk(1)
    assert plan_trunk([iface("eni-p", 0), iface("eni-x", 7)], 8) == CreateTrunk(6)


def test_no_free_index_or_untyped_interface_is_an_error():
    with pytest.raises(TrunkPlanError):
        plan_trunk([iface("a", 0), iface("b", 1)], 2)
    with pytest.raises(TrunkPlanError):
        plan_trunk([iface("a", 0, itype=None)], 3)


def test_primary_interface_is_the_one_with_the_instance_ip():
    interfaces = [iface("eni-2", 1, ip="10.0.0.9"), iface("eni-1", 0, ip="10.0.0.5")]
    assert primary_interface(interfaces, "10.0.0.5").eni_id == "eni-1"
    assert primary_interface(interfaces, "10.9.9.9").eni_id == "eni-1"  # falls back to index 0
