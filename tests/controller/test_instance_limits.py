"""The shipped instance limits table and its override file (reference §3.5, issue #98)."""

import pytest

from apps.controller import instance_limits as limits_module
from apps.controller.instance_limits import (
    InstanceLimitsError,
    instance_limits,
    limit_for,
    read_table,
)

# (type, max ENIs, IPv4 per ENI, trunking, branch ENIs) from reference §3.5.
REFERENCE_ROWS = [
    ("t3.micro", 2, 2, False, 0), ("t3.medium", 3, 6, False, 0), ("m4.large", 2, 10, False, 0),
    ("m5.large", 3, 10, True, 9), ("m5.xlarge", 4, 15, True, 18), ("m5.2xlarge", 4, 15, True, 38),
    ("m5.4xlarge", 8, 30, True, 54), ("m5.12xlarge", 8, 30, True, 54),
    ("m5.24xlarge", 15, 50, True, 107), ("m5.metal", 15, 50, True, 120),
    ("m5zn.large", 3, 10, True, 13), ("m6i.8xlarge", 8, 30, True, 84),
    ("m6g.medium", 2, 4, True, 4), ("c5.metal", 15, 50, True, 107), ("a1.medium", 2, 4, True, 10),
    ("a1.large", 3, 10, True, 9), ("g4dn.xlarge", 3, 10, True, 39), ("g5.xlarge", 4, 15, True, 4),
    ("g5.2xlarge", 4, 15, True, 17), ("inf1.xlarge", 4, 10, True, 38),
    ("i3en.large", 3, 10, True, 5), ("p4d.24xlarge", 60, 50, True, 62),
    ("trn1.32xlarge", 40, 50, True, 82), ("p5.48xlarge", 64, 50, True, 120),
]


@pytest.mark.parametrize("itype,max_enis,ipv4,trunking,branches", REFERENCE_ROWS)
def test_shipped_rows_match_the_reference(itype, max_enis, ipv4, trunking, branches):
    limit = limit_for(itype)
    assert (limit.max_enis, limit.ipv4_per_eni, limit.trunking, limit.branch_enis) == (
        max_enis, ipv4, trunking, branches)


def test_table_covers_every_upstream_type_and_trunk_types_have_branches():
    table = instance_limits()
    assert len(table) == 1164
    trunk_types = [t for t in table.values() if t.trunking]
    assert len(trunk_types) == 1060
    assert all(0 < t.branch_enis <= 120 for t in trunk_types)
    burstable = [t for name, t in table.items() if name[:2] in ("t1", "t2", "t3", "t4")]
    assert burstable and not any(t.trunking for t in burstable)
    assert all(0 < t.device_slots <= t.max_enis for t in table.values())


def test_multi_card_type_uses_the_default_card_for_device_slots():
    assert limit_for("p4d.24xlarge").device_slots == 15


def test_override_file_adds_and_replaces_rows(tmp_path, monkeypatch):
    override = tmp_path / "limits.csv"
    override.write_text(
        "instance_type,max_enis,ipv4_per_eni,trunking,branch_enis\n"
        "zz9.large,3,10,true,11\n"
        "m5.large,3,10,true,7\n"
    )
    monkeypatch.setenv("SGPADMIN_INSTANCE_LIMITS_FILE", str(override))
    assert limit_for("zz9.large").branch_enis == 11
    assert limit_for("zz9.large").device_slots == 3
    assert limit_for("m5.large").branch_enis == 7
    assert limit_for("m5.xlarge").branch_enis == 18  # shipped rows stay
    monkeypatch.delenv("SGPADMIN_INSTANCE_LIMITS_FILE")
    assert limit_for("zz9.large") is None


@pytest.mark.parametrize("body,complaint", [
    ("instance_type,max_enis,trunking,branch_enis\nx.large,3,true,\n", "missing branch_enis"),
    ("instance_type,max_enis,trunking,branch_enis\nx.large,three,true,4\n", "invalid literal"),
    ("instance_type,max_enis,trunking,branch_enis\nx.large,3,true,0\n", "branch_enis > 0"),
])
def test_bad_override_rows_name_file_and_line(tmp_path, body, complaint):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(InstanceLimitsError) as caught:
        read_table(path)
    assert f"{path}:2" in str(caught.value) and complaint in str(caught.value)


def test_shipped_table_path_is_inside_the_package():
    assert limits_module.SHIPPED_TABLE.name == "instance_limits.csv"
    assert limits_module.SHIPPED_TABLE.exists()
