"""The report endpoint: who may post, what is stored, and the real agent's client."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import APIToken, RoleBinding
from apps.inventory.models import BranchENI, BranchENIState, Cluster, Node, NodeReport, TrunkENI

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="sgp-cluster", vpc_id="vpc-00000001")


@pytest.fixture
def branch(cluster):
    node = Node.objects.create(cluster=cluster, name="n1", managed=True, branch_capacity=9)
    trunk = TrunkENI.objects.create(cluster=cluster, node=node, eni_id="eni-trunk")
    return BranchENI.objects.create(
        cluster=cluster,
        trunk=trunk,
        node_name="n1",
        eni_id="eni-1",
        vlan_id=1,
        mac="02:00:00:00:00:01",
        private_ip="10.0.1.20",
        pod_uid="uid-1",
        pod_namespace="default",
        pod_name="postgres-test",
        state=BranchENIState.ATTACHED,
    )


def node_token(cluster, node="n1"):
    from django.contrib.auth import get_user_model

    owner, _ = get_user_model().objects.get_or_create(username="node-agent")
    return APIToken.issue(owner, cluster=cluster, node_name=node, write_enabled=True)[1]


def body(node="n1", pods=()):
    return {
        "schemaVersion": 1,
        "node": {"name": node, "agentVersion": "0.1.0", "mode": "strict"},
        "pods": list(pods),
        "removedLeftovers": [],
        "repaired": [],
    }


def client_with(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_node_token_reports_for_its_node_and_disagreements_are_stored(cluster, branch):
    response = client_with(node_token(cluster)).post("/api/nodes/n1/report/", body(), format="json")
    assert response.status_code == 202, response.content
    stored = NodeReport.objects.get(cluster=cluster, node_name="n1")
    assert (stored.agent_version, stored.mode) == ("0.1.0", "strict")
    assert [d["kind"] for d in stored.disagreements] == ["not-plumbed"]
    assert response.json()["disagreements"] == stored.disagreements


def test_node_token_cannot_report_for_another_node(cluster):
    response = client_with(node_token(cluster)).post(
        "/api/nodes/n2/report/", body("n2"), format="json"
    )
    assert response.status_code == 403
    assert "n1" in response.json()["detail"]
    assert not NodeReport.objects.exists()


def test_node_token_can_do_nothing_else(cluster):
    client = client_with(node_token(cluster))
    assert client.get("/api/node-reports/").status_code == 403
    assert client.get("/api/policies/").status_code == 403


def test_viewer_cannot_post_but_can_read(cluster, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw-viewer-1")
    RoleBinding.objects.create(user=viewer, role="viewer")
    NodeReport.objects.create(
        cluster=cluster, node_name="n1", received_at=timezone.now(), report=body()
    )
    client = APIClient()
    client.force_authenticate(viewer)
    assert client.post("/api/nodes/n1/report/", body(), format="json").status_code == 403
    listing = client.get("/api/node-reports/").json()
    assert [r["node_name"] for r in listing["results"]] == ["n1"]


def test_bad_report_is_400_with_field_errors(cluster):
    response = client_with(node_token(cluster)).post(
        "/api/nodes/n1/report/",
        {"schemaVersion": 1, "node": {"name": "n1"}, "pods": "none"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["pods"] == ["must be a list"]


def test_a_second_report_replaces_the_first(cluster, branch):
    client = client_with(node_token(cluster))
    client.post("/api/nodes/n1/report/", body(), format="json")
    plumbed = {
        "namespace": "default",
        "name": "postgres-test",
        "uid": "uid-1",
        "vlanId": 1,
        "eniId": "eni-1",
        "branchMac": "02:00:00:00:00:01",
        "podIp": "10.0.1.20",
        "linkUp": True,
        "rulesOk": True,
        "routesOk": True,
        "lastError": None,
    }
    client.post("/api/nodes/n1/report/", body(pods=[plumbed]), format="json")
    stored = NodeReport.objects.get()
    assert stored.disagreements == []


def test_the_agents_own_client_is_accepted(cluster, branch, live_server):
    from sgp_node_agent.report import post_report

    status = post_report(live_server.url, "n1", node_token(cluster), body())
    assert status == 202
    assert NodeReport.objects.filter(node_name="n1").exists()


def test_admin_may_report_for_any_node_naming_the_cluster(cluster, django_user_model):
    Cluster.objects.create(name="other", vpc_id="vpc-00000002")
    admin = django_user_model.objects.create_superuser("root", password="pw-root-12")
    client = APIClient()
    client.force_authenticate(admin)
    ambiguous = client.post("/api/nodes/n1/report/", body(), format="json")
    assert ambiguous.status_code == 400 and "cluster" in ambiguous.json()
    ok = client.post("/api/nodes/n1/report/?cluster=sgp-cluster", body(), format="json")
    assert ok.status_code == 202
    assert NodeReport.objects.get().cluster == cluster


def test_an_admin_of_one_cluster_cannot_report_for_another(cluster, django_user_model):
    other = Cluster.objects.create(name="other", vpc_id="vpc-00000002")
    admin = django_user_model.objects.create_user("admin-a", password="pw-admin-a1")
    RoleBinding.objects.create(user=admin, role="admin", cluster=other)
    client = APIClient()
    client.force_authenticate(admin)
    refused = client.post("/api/nodes/n1/report/?cluster=sgp-cluster", body(), format="json")
    assert refused.status_code == 400 and "no cluster named" in str(refused.json())
    assert not NodeReport.objects.exists()
    # Their own cluster, named or as the only one they administer:
    assert client.post("/api/nodes/n1/report/", body(), format="json").status_code == 202
    assert NodeReport.objects.get().cluster == other
