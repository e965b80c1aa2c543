import pytest
from django.utils import timezone

from apps.inventory.models import BranchENI, BranchENIState, Cluster, Node, TrunkENI

pytestmark = pytest.mark.django_db


def _sample(text: str, name: str, **labels) -> float | None:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and line.split("{", 1)[1].split("}", 1)[0] == wanted:
            return float(line.rsplit(" ", 1)[1])
    return None


def _branch(trunk, vlan, state):
    return BranchENI.objects.create(
        cluster=trunk.cluster, trunk=trunk, node_name=trunk.node.name, eni_id=f"eni-{vlan:017x}",
        vlan_id=vlan, pod_uid=f"uid-{vlan}", pod_namespace="default", pod_name=f"p{vlan}",
        state=state, cooling_since=timezone.now() if state == BranchENIState.COOLING else None,
    )


def test_per_node_branch_gauges_come_from_the_database(client):
    cluster = Cluster.objects.create(name="sgp-cluster", vpc_id="vpc-0123456789abcdef0")
    node = Node.objects.create(
        cluster=cluster, name="ip-10-0-0-10", instance_type="m5.xlarge", managed=True,
        branch_capacity=18,
    )
    trunk = TrunkENI.objects.create(cluster=cluster, node=node, eni_id="eni-0aaaaaaaaaaaaaaaa")
    _branch(trunk, 1, BranchENIState.ATTACHED)
    _branch(trunk, 2, BranchENIState.ATTACHED)
    _branch(trunk, 3, BranchENIState.COOLING)
    _branch(trunk, 4, BranchENIState.DELETED)

    body = client.get("/metrics").content.decode()

    labels = {"cluster": "sgp-cluster", "node": "ip-10-0-0-10"}
    assert _sample(body, "sgpadmin_node_branch_capacity", **labels) == 18
    assert _sample(body, "sgpadmin_node_branch_in_use", **labels) == 2
    assert _sample(body, "sgpadmin_node_branch_cooling", **labels) == 1
    assert "sgpadmin_queue_depth" in body


def test_scrape_token_is_enforced_when_configured(client, settings):
    settings.SGPADMIN_METRICS_TOKEN = "scrape-me"
    assert client.get("/metrics").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert ok.status_code == 200
    assert ok["Content-Type"].startswith("text/plain")
