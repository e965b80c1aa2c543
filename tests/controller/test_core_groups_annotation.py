"""Group selection with its event, and the pod-eni annotation (reference §4.2 step 3, §4.4)."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.controller.core.annotation import (
    KEYS,
    AnnotationError,
    BranchDetails,
    parse_annotation,
    render_annotation,
)
from apps.controller.core.groups import NO_MATCH_MESSAGE, select_groups
from apps.controller.core.model import EventType
from apps.policies.matching import PolicyView


def policy(name, groups, pod_selector=None, sa_selector=None):
    spec = {"securityGroups": {"groupIds": groups}}
    if pod_selector is not None:
        spec["podSelector"] = pod_selector
    if sa_selector is not None:
        spec["serviceAccountSelector"] = sa_selector
    return PolicyView(name=name, spec=spec)


def test_matching_policies_give_their_groups_and_a_normal_event():
    policies = [
        policy("a", ["sg-1", "sg-2"], pod_selector={"matchLabels": {"app": "web"}}),
        policy("b", ["sg-2", "sg-3"], pod_selector={}),
        policy("c", ["sg-9"], pod_selector={"matchLabels": {"app": "db"}}),
    ]
    selection = select_groups(policies, {"app": "web"}, {}, ["sg-node"])
    assert selection.group_ids == ("sg-1", "sg-2", "sg-3")
    assert selection.matched_policies == ("a", "b")
    assert not selection.from_node
    assert selection.event.type is EventType.NORMAL
    assert selection.event.reason == "SecurityGroupRequested"
    assert selection.event.message == "Pod will get the following Security Groups [sg-1 sg-2 sg-3]"


def test_nothing_matching_gives_the_node_groups_and_a_warning():
    policies = [policy("c", ["sg-9"], pod_selector={"matchLabels": {"app": "db"}})]
    selection = select_groups(policies, {"app": "web"}, {}, ["sg-n1", "sg-n2", "sg-n1"])
    assert selection.group_ids == ("sg-n1", "sg-n2")
    assert selection.from_node
    assert selection.event.type is EventType.WARNING
    assert selection.event.message == NO_MATCH_MESSAGE


def test_service_account_selector_uses_the_account_labels():
    policies = [policy("sa", ["sg-sa"], sa_selector={"matchLabels": {"team": "pay"}})]
    assert select_groups(policies, {}, {"team": "pay"}, ["sg-n"]).group_ids == ("sg-sa",)
    assert select_groups(policies, {}, None, ["sg-n"]).group_ids == ("sg-n",)


def details(**overrides):
    values = dict(eni_id="eni-1", mac="0a:1b:2c:3d:4e:5f", private_ip="10.0.5.17", vlan_id=3,
                  subnet_cidr="10.0.0.0/19", association_id="trunk-assoc-1")
    values.update(overrides)
    return BranchDetails(**values)


def test_annotation_writes_all_eight_keys_even_when_empty():
    entries = json.loads(render_annotation([details()]))
    assert len(entries) == 1
    assert list(entries[0]) == list(KEYS)
    assert entries[0]["ipv6Addr"] == "" and entries[0]["subnetV6Cidr"] == ""
    assert entries[0]["vlanId"] == 3 and isinstance(entries[0]["vlanId"], int)
    assert entries[0]["associationID"] == "trunk-assoc-1"


def test_parser_accepts_other_key_spellings_and_old_annotations():
    old = '[{"eniId":"eni-2","ifAddress":"aa","privateIp":"10.0.0.2","vlanID":7,' \
          '"subnetCidr":"10.0.0.0/24","AssociationId":"assoc-x"}]'
    [entry] = parse_annotation(old)
    assert entry["vlanId"] == 7
    assert entry["associationID"] == "assoc-x"
    assert entry["ipv6Addr"] == "" and entry["subnetV6Cidr"] == ""


@pytest.mark.parametrize("value", ["1", "{", '{"eniId": "x"}', "[1]", None])
def test_parser_rejects_what_is_not_an_array_of_objects(value):
    with pytest.raises(AnnotationError):
        parse_annotation(value)


@given(st.builds(details, vlan_id=st.integers(1, 120), private_ip=st.ip_addresses(v=4).map(str),
                 ipv6_address=st.one_of(st.just(""), st.ip_addresses(v=6).map(str))))
def test_render_then_parse_round_trips(branch):
    [entry] = parse_annotation(render_annotation([branch]))
    assert entry == branch.as_annotation_entry()
