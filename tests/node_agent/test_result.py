import pytest
from hypothesis import given
from hypothesis import strategies as st
from node_factories import record
from sgp_node_agent import errors
from sgp_node_agent.result import build_result, target_from_prev_result


def test_add_result_lists_interfaces_ips_and_routes():
    rec = record()
    result = build_result("1.0.0", rec)
    assert result["cniVersion"] == "1.0.0"
    names = [i["name"] for i in result["interfaces"]]
    assert names == [rec.host_veth, "eth0", "dummy" + rec.host_veth[-11:], "vlan.eth.7"]
    assert result["interfaces"][1]["sandbox"] == rec.netns
    assert result["interfaces"][2]["mac"] == "7"
    assert result["ips"] == [
        {"address": "192.168.120.20/32", "gateway": "192.168.120.1", "interface": 1}
    ]
    assert result["routes"] == [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}]


def test_older_spec_versions_carry_the_ip_version():
    assert build_result("0.4.0", record())["ips"][0]["version"] == "4"


def test_del_reads_back_everything_the_guard_needs():
    rec = record()
    target = target_from_prev_result(build_result("1.0.0", rec), "c1", "eth0")
    assert target == rec.target()


def test_upstream_shaped_prev_result_gives_vlan_and_ip_without_macs():
    prev = {
        "interfaces": [
            {"name": "vlan0f6c2b95910"},
            {"name": "eth0", "sandbox": "/proc/1/ns/net", "mac": "0"},
            {"name": "dummy0f6c2b95910", "mac": "4"},
        ],
        "ips": [{"address": "10.0.1.20/32", "interface": 1, "gateway": "10.0.1.1"}],
    }
    target = target_from_prev_result(prev, "c1", "eth0")
    assert (target.vlan_id, target.pod_ip, target.host_veth) == (4, "10.0.1.20", "vlan0f6c2b95910")
    assert target.branch_mac is None and target.host_veth_mac is None


@pytest.mark.parametrize(
    "prev",
    [
        None,
        {},
        {"interfaces": [{"name": "eth0"}]},
        {"interfaces": [{"name": "dummyx", "mac": "0"}]},
    ],
)
def test_results_that_are_not_a_branch_pod_are_not_handled(prev):
    assert target_from_prev_result(prev, "c1", "eth0") is None


def test_malformed_vlan_id_and_missing_ip_are_errors():
    with pytest.raises(errors.CniError):
        target_from_prev_result({"interfaces": [{"name": "dummyx", "mac": "x"}]}, "c1", "eth0")
    with pytest.raises(errors.CniError):
        target_from_prev_result(
            {"interfaces": [{"name": "dummyx", "mac": "4"}], "ips": []}, "c1", "eth0"
        )


@given(
    vlan_id=st.integers(min_value=1, max_value=120),
    last_octet=st.integers(min_value=2, max_value=254),
    mode=st.sampled_from(["strict", "standard"]),
    name=st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
    version=st.sampled_from(["0.3.1", "0.4.0", "1.0.0"]),
)
def test_every_add_result_reads_back_as_the_same_teardown_target(
    vlan_id, last_octet, mode, name, version
):
    rec = record(mode=mode, vlan_id=vlan_id, name=name, ip=f"192.168.120.{last_octet}")
    assert (
        target_from_prev_result(build_result(version, rec), rec.container_id, "eth0")
        == rec.target()
    )
