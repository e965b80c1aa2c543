"""The soak's end-state checks catch what they claim to catch (so a green soak means something)."""

from __future__ import annotations

from apps.controller.core.constants import POD_ENI
from apps.inventory.models import BranchENI, BranchENIState

from .conftest import attached
from .soak_checks import check_world
from .test_gc import stray_eni


def test_a_healthy_world_passes(world, ec2):
    attached(world, "p1")
    report = check_world(world, ec2)
    assert report["ok"] and report["live_pods"] == report["annotated_pods"] == 1


def test_leaks_wrong_groups_and_unexplained_pods_are_caught(world, ec2):
    entry = attached(world, "p1")
    stray = stray_eni(world)
    world.ec2_seeder.modify_network_interface_attribute(
        NetworkInterfaceId=entry["eniId"], Groups=[world.group_ids["db"]])
    world.add_pod("waiting", 0)  # never attached, no event
    BranchENI.objects.filter(eni_id=entry["eniId"]).update(state=BranchENIState.LEAKED)
    report = check_world(world, ec2)
    assert not report["ok"]
    assert report["leaked_enis"] == [stray]
    assert report["wrong_groups"] == ["p1"]
    assert report["unexplained"] == ["waiting"]
    assert report["leaked_rows"] == 1


def test_stray_branch_eni_is_a_leak(world, ec2):
    attached(world, "p1")
    stray = world.ec2_seeder.create_network_interface(
        SubnetId=world.instances[0].subnet_id, Description="aws-k8s-branch-eni",
    )["NetworkInterface"]["NetworkInterfaceId"]
    report = check_world(world, ec2)
    assert report["leaked_enis"] == [stray] and not report["ok"]


def test_two_enis_and_wrong_vlans_are_caught(world, ec2):
    import json

    first, second = attached(world, "p1"), attached(world, "p2")
    doubled = json.dumps([first, {**second, "vlanId": 99}])
    world.core.patch_namespaced_pod("p1", "default",
                                    {"metadata": {"annotations": {POD_ENI: doubled}}})
    report = check_world(world, ec2)
    assert "p1" in report["two_enis"] and second["eniId"] in report["two_enis"]
    assert report["vlan_mismatch"] == ["p1"] and not report["ok"]
