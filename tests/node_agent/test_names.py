from sgp_node_agent import names


def test_host_veth_names_follow_upstream_for_both_modes():
    # sha1("default.green") starts with 0f6c2b95910 (the lab's example pod)
    assert names.host_veth_name("default", "green", names.STRICT) == "vlan0f6c2b95910"
    assert names.host_veth_name("default", "green", names.STANDARD) == "eni0f6c2b95910"
    assert names.host_veth_name("default", "green", names.STANDARD, "abcd") == "abcd0f6c2b95910"


def test_host_veth_name_fits_ifnamsiz():
    assert (
        len(
            names.host_veth_name(
                "a-very-long-namespace", "a-very-long-pod-name", "standard", "eni1"
            )
        )
        == 15
    )


def test_vlan_link_and_table_numbers():
    assert names.vlan_link_name(7) == "vlan.eth.7"
    assert names.route_table(7) == 107
    assert names.vlan_id_of_link("vlan.eth.120") == 120
    assert names.vlan_id_of_link("vlan.eth.x") is None
    assert names.vlan_id_of_link("vlan0f6c2b95910") is None
    assert names.vlan_id_of_link("vlan.eth.0") is None


def test_kernel_tables_are_never_branch_tables():
    assert names.is_branch_table(101)
    assert names.is_branch_table(220)
    assert not names.is_branch_table(254)
    assert not names.is_branch_table(255)
    assert not names.is_branch_table(253)
    assert not names.is_branch_table(100)
