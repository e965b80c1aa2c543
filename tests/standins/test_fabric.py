"""The fabric ruleset says what EC2's groups say (pure), and is read from the stand-in."""

import pytest

from standins.fabric import Fabric, FabricENI, IngressRule, fabric_from_ec2, fabric_ruleset

NODE = FabricENI("eni-node", ("10.0.0.10", "10.0.0.21"), ("sg-node",), "f-eth0")
BRANCH = FabricENI(
    "eni-branch", ("10.0.1.20",), ("sg-rdsaccess", "sg-node"), "f-trunk", "02:AA:00:00:00:01"
)
RDS = FabricENI("eni-rds", ("10.0.2.10",), ("sg-rds",), "f-rds")
GROUPS = {
    "sg-rds": [IngressRule("tcp", 5432, 5432, source_group_ids=("sg-rdsaccess",))],
    "sg-node": [
        IngressRule("-1", source_group_ids=("sg-node",)),
        IngressRule("tcp", 22, 22, cidrs=("192.0.2.0/24",)),
    ],
    "sg-rdsaccess": [],
}


def test_marks_follow_entry_link_and_branch_mac():
    rules = fabric_ruleset(Fabric([NODE, BRANCH, RDS], GROUPS, ("f-inet",)))
    assert 'iifname "f-eth0" meta mark set 1' in rules
    assert 'iifname "f-trunk" ether saddr 02:aa:00:00:00:01 meta mark set 2' in rules
    assert 'iifname "f-rds" meta mark set 3' in rules


def test_group_reference_admits_only_members_of_the_group():
    rules = fabric_ruleset(Fabric([NODE, BRANCH, RDS], GROUPS, ("f-inet",)))
    # Only the branch (mark 2) is in sg-rdsaccess: the node's primary ENI (mark 1) is not.
    assert "ip daddr 10.0.2.10 tcp dport 5432 meta mark 2 accept" in rules
    assert "meta mark { 1, 2 } accept" in rules  # sg-node admits all its members, any protocol
    assert "ip daddr { 10.0.0.10, 10.0.0.21 } ip saddr 192.0.2.0/24 tcp dport 22 accept" in rules
    assert rules.index("ct state established,related accept") < rules.index(
        "counter name dropped drop"
    )
    assert 'oifname "f-inet" accept' in rules


def test_removing_the_rule_removes_the_access():
    closed = dict(GROUPS, **{"sg-rds": []})
    assert "10.0.2.10" not in fabric_ruleset(Fabric([NODE, BRANCH, RDS], closed))


def test_port_ranges_and_protocols():
    rule = IngressRule("udp", 1000, 2000, cidrs=("10.0.0.0/16",))
    text = fabric_ruleset(Fabric([RDS], {"sg-rds": [rule]}))
    assert "ip daddr 10.0.2.10 ip saddr 10.0.0.0/16 udp dport 1000-2000 accept" in text


def test_the_ruleset_replaces_the_table_atomically():
    text = fabric_ruleset(Fabric([RDS], GROUPS))
    assert text.startswith("table inet sgfabric\ndelete table inet sgfabric\ntable inet sgfabric {")


def test_read_from_the_ec2_standin():
    from standins.ec2 import EC2Standin
    from standins.ec2.seeding import allow_tcp, create_security_group, create_subnet, create_vpc

    with EC2Standin() as ec2_standin:
        ec2 = ec2_standin.seeder()
        vpc = create_vpc(ec2)
        subnet = create_subnet(ec2, vpc, "10.0.2.0/24")
        access = create_security_group(ec2, vpc, "RDSDbAccessSG")
        rds_sg = create_security_group(
            ec2, vpc, "rds", ingress=[allow_tcp(5432, source_group_id=access)]
        )
        rds = ec2.create_network_interface(
            SubnetId=subnet, Groups=[rds_sg], PrivateIpAddress="10.0.2.10"
        )
        branch = ec2.create_network_interface(
            SubnetId=subnet, Groups=[access], Description="aws-k8s-branch-eni"
        )["NetworkInterface"]
        fabric = fabric_from_ec2(
            ec2, {rds["NetworkInterface"]["NetworkInterfaceId"]: "f-rds"}, "f-trunk"
        )

    by_id = {eni.eni_id: eni for eni in fabric.enis}
    assert by_id[branch["NetworkInterfaceId"]].link == "f-trunk"
    assert by_id[branch["NetworkInterfaceId"]].mac == branch["MacAddress"]
    assert fabric.groups[rds_sg] == [IngressRule("tcp", 5432, 5432, (), (access,))]
    text = fabric_ruleset(fabric)
    branch_mark = next(
        line for line in text.splitlines() if branch["MacAddress"].lower() in line
    ).split()[-1]
    assert f"ip daddr 10.0.2.10 tcp dport 5432 meta mark {branch_mark} accept" in text


@pytest.mark.netns
def test_nft_accepts_the_ruleset(tmp_path):
    import os
    import shutil
    import subprocess
    import uuid

    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root and nft")
    netns = f"sgpfab{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        for link in ("f-eth0", "f-trunk", "f-rds"):
            subprocess.run(
                [
                    "ip",
                    "-n",
                    netns,
                    "link",
                    "add",
                    link,
                    "type",
                    "veth",
                    "peer",
                    "name",
                    f"p{link}",
                ],
                check=True,
            )
        text = fabric_ruleset(Fabric([NODE, BRANCH, RDS], GROUPS, ("f-rds",)))
        for _ in range(2):  # applying twice replaces, never duplicates
            subprocess.run(
                ["ip", "netns", "exec", netns, "nft", "-f", "-"], input=text, text=True, check=True
            )
        listed = subprocess.run(
            ["ip", "netns", "exec", netns, "nft", "list", "ruleset"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert listed.count("table inet sgfabric") == 1
        assert "tcp dport 5432" in listed
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)
