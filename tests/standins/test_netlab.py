"""The namespace VPC: routing by ENI address, security groups enforced from EC2's view,
and a real PostgreSQL server reachable only where its group admits."""

import os
import shutil

import pytest

from standins.dbhost import PostgresServer, postgres_binaries, query_from
from standins.fabric import Fabric, FabricENI, IngressRule
from standins.netlab import Listener, VpcLab, connect

pytestmark = pytest.mark.netns

SUBNET = "10.0.0.0/24"
DB_SUBNET = "10.0.2.0/24"


@pytest.fixture
def lab():
    if os.geteuid() != 0 or shutil.which("nft") is None:
        pytest.skip("needs root, ip and nft")
    with VpcLab() as vpc:
        yield vpc


def world(lab):
    node = lab.add_node("n1", "10.0.0.10", SUBNET, "02:00:00:00:01:01", "02:00:00:00:01:02")
    db = lab.add_host("db", "10.0.2.10", DB_SUBNET)
    pod = lab.plain_pod(node, "pa", "10.0.0.21")
    return node, db, pod


def groups(node, lab, allow: bool) -> Fabric:
    rules = [IngressRule("tcp", 5432, 5432, source_group_ids=("sg-node",))] if allow else []
    return Fabric(
        enis=[
            FabricENI("eni-node", ("10.0.0.10", "10.0.0.21"), ("sg-node",), node.primary_link),
            FabricENI("eni-db", ("10.0.2.10",), ("sg-db",), lab.host_link("db")),
        ],
        groups={
            "sg-node": [IngressRule("-1", source_group_ids=("sg-node", "sg-db"))],
            "sg-db": rules,
        },
    )


def test_traffic_follows_the_security_groups(lab):
    node, db, pod = world(lab)
    lab.closers.append(Listener(db, "10.0.2.10", 5432))
    lab.enforce(groups(node, lab, allow=True))
    assert connect(pod, "10.0.2.10", 5432) == "10.0.0.21"
    lab.enforce(groups(node, lab, allow=False))
    before = lab.dropped()
    assert connect(pod, "10.0.2.10", 5432, timeout=1) is None
    assert lab.dropped() > before


def test_real_postgres_answers_select_version(lab):
    if postgres_binaries() is None:
        pytest.skip("no PostgreSQL server binaries")
    node, db, pod = world(lab)
    lab.closers.append(PostgresServer(db, "10.0.2.10"))
    lab.enforce(groups(node, lab, allow=True))
    assert query_from(pod, "10.0.2.10").startswith("PostgreSQL")
    lab.enforce(groups(node, lab, allow=False))
    assert query_from(pod, "10.0.2.10", timeout=1) is None


def test_down_removes_every_namespace():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    vpc = VpcLab().up()
    world(vpc)
    names = list(vpc.namespaces)
    vpc.down()
    listed = os.listdir("/var/run/netns") if os.path.isdir("/var/run/netns") else []
    assert not set(names) & set(listed)
