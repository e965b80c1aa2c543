from dataclasses import replace

import pytest
from node_factories import record
from sgp_node_agent.state import RecordStore, claims_of_others, hand_over


def test_records_round_trip_through_the_store(tmp_path):
    store = RecordStore(tmp_path / "pods")
    rec = record("c1")
    store.put(rec)
    assert store.get("c1") == rec
    assert store.all() == [rec]
    store.remove("c1")
    store.remove("c1")
    assert store.get("c1") is None and store.all() == []


@pytest.mark.parametrize("container_id", ["../etc/passwd", "abc\n", "", "a/b"])
def test_container_ids_must_be_safe_file_names(tmp_path, container_id):
    store = RecordStore(tmp_path)
    with pytest.raises(ValueError, match="not a safe file name"):
        store.get(container_id)


def test_claims_exclude_the_asking_container_and_released_claims():
    old = record("old", vlan_id=6, ip="192.168.120.6")
    new = record("new", vlan_id=7, ip="192.168.120.7", name="blue")
    released = replace(
        record("gone", vlan_id=8, ip="192.168.120.8", name="red"), released=("vlan", "ip")
    )
    claims = claims_of_others([old, new, released], "old")
    assert claims.vlan_ids == {7}
    assert claims.pod_ips == {"192.168.120.7"}
    assert claims.host_veths == {new.host_veth, released.host_veth}


def test_a_newer_pod_takes_over_the_claims_it_shares_with_older_records():
    old = record("old", vlan_id=6, ip="192.168.120.6")
    unrelated = record("other", vlan_id=9, ip="192.168.120.9", name="blue")
    newer = record("new", vlan_id=6, ip="192.168.120.50")
    changed = hand_over([old, unrelated, newer], newer)
    assert changed == [replace(old, released=("host_veth", "vlan"))]
    assert claims_of_others([*changed, unrelated, newer], "new").vlan_ids == {9}


def test_a_new_store_reads_what_another_wrote(tmp_path):
    RecordStore(tmp_path).put(record("c1"))
    (tmp_path / "junk.json").write_text("{not json")
    assert [r.container_id for r in RecordStore(tmp_path).all()] == ["c1"]


def test_unreadable_record_files_are_logged_and_listed(tmp_path, caplog):
    RecordStore(tmp_path).put(record("c1"))
    (tmp_path / "c2.json").write_text("{not json")
    (tmp_path / "c3.json").write_text("[1, 2]")
    store = RecordStore(tmp_path)
    with caplog.at_level("WARNING", logger="sgp_node_agent.state"):
        assert [r.container_id for r in store.all()] == ["c1"]
    unreadable = store.unreadable()
    assert sorted(unreadable) == ["c2.json", "c3.json"]
    assert "not a JSON object" in unreadable["c3.json"]
    assert "c2.json" in caplog.text and "c3.json" in caplog.text
    # a file put right again counts once more, whoever fixed it
    (tmp_path / "c2.json").unlink()
    store.put(record("c3"))
    assert store.unreadable() == {}
    assert sorted(r.container_id for r in store.all()) == ["c1", "c3"]


def test_an_unreadable_record_file_fixed_on_disk_is_read_on_the_next_look(tmp_path):
    (tmp_path / "c1.json").write_text("{not json")
    store = RecordStore(tmp_path)
    assert store.all() == [] and list(store.unreadable()) == ["c1.json"]
    RecordStore(tmp_path / "elsewhere").put(record("c1"))
    (tmp_path / "elsewhere" / "c1.json").replace(tmp_path / "c1.json")
    assert store.unreadable() == {}
    assert store.get("c1") == record("c1")
