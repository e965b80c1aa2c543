import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sgp_node_agent.annotation import ipv4_gateway, parse_pod_eni, requests_pod_eni
from sgp_node_agent.errors import AnnotationError

ENTRY = {
    "eniId": "eni-0abc",
    "ifAddress": "06:74:5B:7B:54:3A",
    "privateIp": "10.105.49.186",
    "ipv6Addr": "",
    "vlanId": 2,
    "subnetCidr": "10.105.49.128/26",
    "subnetV6Cidr": "",
    "associationID": "trunk-assoc-1",
}


def value(**changes):
    entry = {**ENTRY, **changes}
    return json.dumps([{k: v for k, v in entry.items() if v is not None}])


def test_controller_annotation_is_parsed_with_gateway_network_plus_one():
    branch = parse_pod_eni(value())
    assert branch.vlan_id == 2
    assert branch.mac == "06:74:5b:7b:54:3a"
    assert branch.ip == "10.105.49.186"
    assert branch.gateway == "10.105.49.129"
    assert branch.eni_id == "eni-0abc"
    assert branch.association_id == "trunk-assoc-1"


@pytest.mark.parametrize("vlan_key", ["vlanId", "vlanID", "VLANID", "vlanid"])
def test_keys_match_without_regard_to_case(vlan_key):
    entry = {k: v for k, v in ENTRY.items() if k != "vlanId"}
    entry[vlan_key] = 9
    entry["AssociationId"] = entry.pop("associationID")
    branch = parse_pod_eni(json.dumps([entry]))
    assert branch.vlan_id == 9
    assert branch.association_id == "trunk-assoc-1"


def test_only_element_zero_is_used():
    second = {**ENTRY, "vlanId": 3, "privateIp": "10.105.49.130"}
    branch = parse_pod_eni(json.dumps([ENTRY, second]))
    assert branch.vlan_id == 2


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not json", "not valid JSON"),
        ("{}", "JSON array"),
        ("[]", "empty array"),
        ("[1]", "must be an object"),
        (value(vlanId=0), "outside 1..4094"),
        (value(vlanId=4095), "outside 1..4094"),
        (value(vlanId="x"), "not a number"),
        (value(vlanId=True), "not a number"),
        (value(vlanId=None), "not a number"),
        (value(vlanId=154), "reserves"),
        (value(ifAddress=""), r"MAC\) is missing"),
        (value(ifAddress="zz:00:00:00:00:00"), "not a MAC"),
        (value(ifAddress="02:00:00:00:01:zz"), "not a MAC"),
        (value(privateIp=""), "privateIp is missing"),
        (value(privateIp="10.0.0.300"), "not an IPv4 address"),
        (value(subnetCidr="bogus"), "not an IPv4 CIDR"),
        (value(privateIp="10.1.1.1"), "not inside subnetCidr"),
    ],
)
def test_unusable_annotations_are_rejected_with_the_reason(raw, message):
    with pytest.raises(AnnotationError, match=message):
        parse_pod_eni(raw)


@given(st.integers(min_value=-10, max_value=5000))
def test_vlan_ids_accepted_exactly_in_range_and_off_the_kernel_tables(vlan_id):
    ok = 1 <= vlan_id <= 4094 and vlan_id + 100 not in (253, 254, 255)
    if ok:
        assert parse_pod_eni(value(vlanId=vlan_id)).vlan_id == vlan_id
    else:
        with pytest.raises(AnnotationError):
            parse_pod_eni(value(vlanId=vlan_id))


@given(st.ip_addresses(v=4), st.integers(min_value=8, max_value=30))
def test_gateway_is_network_address_plus_one(address, prefix):
    import ipaddress

    network = ipaddress.IPv4Network(f"{address}/{prefix}", strict=False)
    assert ipv4_gateway(f"{address}/{prefix}") == str(network.network_address + 1)


def test_pod_eni_request_is_read_from_the_first_container():
    asking = {
        "spec": {"containers": [{"resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}}}]}
    }
    second = {
        "spec": {"containers": [{}, {"resources": {"limits": {"vpc.amazonaws.com/pod-eni": "1"}}}]}
    }
    assert requests_pod_eni(asking)
    assert not requests_pod_eni(second)
    assert not requests_pod_eni({"spec": {}})
