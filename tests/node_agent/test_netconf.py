import pytest
from sgp_node_agent import errors
from sgp_node_agent.netconf import parse_environment, parse_netconf

BASE = {"cniVersion": "1.0.0", "name": "sgp", "type": "sgp-cni"}
ENV = {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "c1",
    "CNI_NETNS": "/var/run/netns/x",
    "CNI_IFNAME": "eth0",
    "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=green;K8S_POD_UID=u1",
}


def test_defaults_follow_upstream():
    conf = parse_netconf(BASE)
    assert (conf.mode, conf.mtu, conf.veth_prefix, conf.branch_link_kind) == (
        "strict",
        9001,
        "eni",
        "vlan",
    )


@pytest.mark.parametrize(
    ("given", "mode"), [("standard", "standard"), ("STRICT", "strict"), ("bogus", "strict")]
)
def test_unknown_modes_fall_back_to_strict(given, mode):
    assert parse_netconf({**BASE, "podSGEnforcingMode": given}).mode == mode


@pytest.mark.parametrize(("given", "mtu"), [(1500, 1500), (575, 9001), (9002, 9001), ("x", 9001)])
def test_mtu_outside_576_to_9001_falls_back(given, mtu):
    assert parse_netconf({**BASE, "mtu": given}).mtu == mtu


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ([], errors.DECODE_FAILURE),
        ({"name": "x"}, errors.INVALID_NETWORK_CONFIG),
        ({**BASE, "cniVersion": "0.2.0"}, errors.INCOMPATIBLE_VERSION),
        ({**BASE, "name": ""}, errors.INVALID_NETWORK_CONFIG),
        ({**BASE, "vethPrefix": "toolong"}, errors.INVALID_NETWORK_CONFIG),
        ({**BASE, "branchLinkKind": "ipvlan"}, errors.INVALID_NETWORK_CONFIG),
        ({**BASE, "prevResult": []}, errors.INVALID_NETWORK_CONFIG),
    ],
)
def test_bad_configuration_gets_the_spec_error_code(raw, code):
    with pytest.raises(errors.CniError) as caught:
        parse_netconf(raw)
    assert caught.value.code == code


def test_environment_is_parsed_with_pod_identity():
    args = parse_environment(ENV)
    assert (args.command, args.container_id, args.netns, args.ifname) == (
        "ADD",
        "c1",
        "/var/run/netns/x",
        "eth0",
    )
    assert (args.pod_namespace, args.pod_name, args.pod_uid) == ("default", "green", "u1")
    assert args.extra == {"IgnoreUnknown": "1"}


@pytest.mark.parametrize(
    "changes",
    [
        {"CNI_COMMAND": "GC"},
        {"CNI_COMMAND": ""},
        {"CNI_CONTAINERID": ""},
        {"CNI_IFNAME": ""},
        {"CNI_NETNS": ""},
        {"CNI_ARGS": "K8S_POD_NAMESPACE=default"},
        {"CNI_ARGS": "garbage"},
    ],
)
def test_bad_environment_is_error_4(changes):
    with pytest.raises(errors.CniError) as caught:
        parse_environment({**ENV, **changes})
    assert caught.value.code == errors.INVALID_ENVIRONMENT


def test_del_accepts_an_empty_netns_and_no_pod_args():
    args = parse_environment({**ENV, "CNI_COMMAND": "DEL", "CNI_NETNS": "", "CNI_ARGS": ""})
    assert args.netns == "" and args.pod_name == ""
