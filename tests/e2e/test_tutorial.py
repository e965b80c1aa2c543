"""AWS's security-groups-for-pods tutorial, end to end, on this machine.

EC2 is the stand-in (moto + our trunking), Kubernetes the emulator, the VPC a set of network
namespaces whose fabric enforces the security groups as EC2 holds them, the database a real
PostgreSQL server in its own namespace. sgpadmin's own code does the rest: the REST API
creates the cluster and the policy, the mutating webhook admits the pods, the watcher and
the controller give ``postgres-test`` its branch ENI, the node agent plumbs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from sgpadmin.demo import tutorial as t
from sgpadmin.demo.node_agent import NodeAgent
from standins.dbhost import PostgresServer, postgres_binaries, query_from
from standins.fabric import fabric_from_ec2
from standins.netlab import Listener, VpcLab, connect

pytestmark = [pytest.mark.netns, pytest.mark.slow]
BIN = Path(sys.executable).parent


@pytest.fixture
def root_lab():
    if os.geteuid() != 0 or shutil.which("nft") is None or shutil.which("ip") is None:
        pytest.skip("needs root, iproute2 and nftables")
    lab = VpcLab("sgpe2e").up()
    yield lab
    lab.down()


@pytest.fixture
def stand_ins(tmp_path):
    from standins.ec2 import EC2Standin
    from standins.kubernetes import KubeStandin

    with EC2Standin() as ec2, KubeStandin() as kube:
        kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
        yield ec2, kube, kubeconfig


class Controller:
    """The watcher's list pass and the reconciles it asks for, run in the test's thread."""

    def __init__(self, cluster):
        from apps.controller.watcher import KINDS, KindWatcher

        self.cluster = cluster
        self.work: list = []
        stop = threading.Event()
        self.watchers = [KindWatcher(cluster, kind, self._collect, stop) for kind in KINDS]

    def _collect(self, _cluster_id, work):
        self.work.append(work)

    def converge(self):
        from apps.controller.inventory_sync import NodeWork, PodRelease, PolicySyncWork
        from apps.controller.node_reconcile import reconcile_node
        from apps.controller.pod_attach import attach_pod
        from apps.controller.ports.cluster import ClusterPort
        from apps.controller.release import release_pod
        from apps.policies.sync.apply import sync_cluster

        for watcher in self.watchers:
            watcher.relist()
        outcomes = []
        while self.work:
            work = self.work.pop(0)
            if isinstance(work, NodeWork):
                outcomes.append(reconcile_node(self.cluster, work.name))
            elif isinstance(work, PolicySyncWork):
                outcomes.append(sync_cluster(self.cluster, ClusterPort(self.cluster).custom))
            elif isinstance(work, PodRelease):
                outcomes.append(release_pod(self.cluster, work.uid))
            else:
                outcomes.append(attach_pod(self.cluster, work.namespace, work.name, work.uid))
        return outcomes


def node_state(netns: str) -> str:
    links = subprocess.run(
        ["ip", "-n", netns, "-o", "link", "show"], capture_output=True, text=True
    ).stdout
    rules = subprocess.run(
        ["ip", "-n", netns, "rule", "show"], capture_output=True, text=True
    ).stdout
    return links + rules


@pytest.mark.django_db(transaction=True)
def test_the_tutorial_end_to_end(root_lab, stand_ins, tmp_path, django_user_model, monkeypatch):
    from apps.controller.release import process_node_queue
    from apps.inventory.models import BranchENI, BranchENIState, Cluster

    ec2_standin, kube, kubeconfig = stand_ins
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")
    ec2 = ec2_standin.seeder()
    aws = t.seed_aws(ec2)
    api = kube.api_client()
    import kubernetes

    core, custom = kubernetes.client.CoreV1Api(api), kubernetes.client.CustomObjectsApi(api)
    t.seed_kubernetes(core, custom, aws)

    # The security team registers the cluster and writes the policy through the REST API.
    admin = django_user_model.objects.create_superuser("secteam", password="pw-secteam-1")
    rest = APIClient()
    rest.force_authenticate(admin)
    created = rest.post(
        "/api/clusters/", t.cluster_fields(aws, kube.url, ec2_standin.endpoint_url), format="json"
    )
    assert created.status_code == 201, created.content
    policy = rest.post("/api/policies/", t.policy_fields(aws), format="json")
    assert policy.status_code == 201, policy.content
    cluster = Cluster.objects.get(name=t.CLUSTER)

    # The controller finds the node, gives it a trunk ENI and advertises branch capacity.
    controller = Controller(cluster)
    controller.converge()
    node = core.read_node(aws.node_name)
    from apps.controller.instance_limits import limit_for

    assert node.status.capacity[t.POD_ENI] == str(limit_for(t.INSTANCE_TYPE).branch_enis)
    trunk = ec2.describe_network_interfaces(
        Filters=[{"Name": "attachment.instance-id", "Values": [aws.instance_id]}]
    )["NetworkInterfaces"]
    trunk = next(eni for eni in trunk if eni.get("InterfaceType") == "trunk")
    assert trunk["Description"] == "aws-k8s-trunk-eni"

    # The API server admits both pods through our webhook; only the one whose service
    # account the policy selects gets the extended resource. The scheduler binds them.
    def send(review):
        answer = rest.post("/mutate-v1-pod", review, format="json")
        assert answer.status_code == 200, answer.content
        return answer.json()

    with_sa = t.admit(send, t.pod_manifest(t.POD_WITH_SA, t.SERVICE_ACCOUNT))
    without_sa = t.admit(send, t.pod_manifest(t.POD_WITHOUT_SA, None))
    assert t.requests_pod_eni(with_sa)
    assert not t.requests_pod_eni(without_sa)
    with_sa = t.schedule(core, with_sa, aws.node_name)
    without_sa = t.schedule(core, without_sa, aws.node_name)

    # The controller gives postgres-test a branch ENI with both groups and annotates it.
    controller.converge()
    live = core.read_namespaced_pod(t.POD_WITH_SA, t.NAMESPACE)
    (annotation,) = json.loads(live.metadata.annotations[t.POD_ENI])
    assert set(annotation) == {
        "eniId",
        "ifAddress",
        "privateIp",
        "ipv6Addr",
        "vlanId",
        "subnetCidr",
        "subnetV6Cidr",
        "associationID",
    }
    branch = ec2.describe_network_interfaces(NetworkInterfaceIds=[annotation["eniId"]])[
        "NetworkInterfaces"
    ][0]
    assert sorted(g["GroupId"] for g in branch["Groups"]) == sorted(
        [aws.rds_access_sg, aws.cluster_sg]
    )
    assert annotation["subnetCidr"] == t.NODE_SUBNET
    other = core.read_namespaced_pod(t.POD_WITHOUT_SA, t.NAMESPACE)
    assert t.POD_ENI not in (other.metadata.annotations or {})

    # The VPC in namespaces: the node with its primary and trunk ENIs, the database host,
    # the fabric routing each ENI address and enforcing the groups EC2 holds.
    lab = root_lab
    node_net = lab.add_node("n1", t.NODE_IP, t.NODE_SUBNET, aws.node_mac, trunk["MacAddress"])
    db_ns = lab.add_host("db", t.DB_IP, t.DB_SUBNET)
    if postgres_binaries() is not None:
        lab.closers.append(PostgresServer(db_ns, t.DB_IP, t.DB_PORT))

        def reaches_db(netns, timeout=2):
            answer = query_from(netns, t.DB_IP, timeout=timeout)
            return answer is not None and answer.startswith("PostgreSQL")
    else:  # no server binaries: a listener stands in for the database
        lab.closers.append(Listener(db_ns, t.DB_IP, t.DB_PORT))

        def reaches_db(netns, timeout=2):
            return connect(netns, t.DB_IP, t.DB_PORT, timeout=timeout) is not None

    def reaches_db_soon(netns, attempts=5):
        """A first connection can lose its SYN while the fabric's neighbours resolve under
        load: a few tries, each with the same 2 s timeout as the checks that must fail."""
        return any(reaches_db(netns) for _ in range(attempts))

    plain_ns = lab.plain_pod(node_net, "nosa", t.PLAIN_POD_IP)
    lab.route_eni(annotation["privateIp"], node_net.trunk_link, annotation["ifAddress"])
    links = {aws.node_eni_id: node_net.primary_link, aws.db_eni_id: lab.host_link("db")}

    def enforce():
        lab.enforce(fabric_from_ec2(ec2, links, node_net.trunk_link))

    enforce()

    # The node agent plumbs postgres-test as the container runtime asks it to.
    agent = NodeAgent(node_net, aws.node_name, kubeconfig, tmp_path)
    agent.start()
    try:
        pod_ns = lab.pod_netns("pt")
        result = agent.cni("ADD", "c-postgres-test", pod_ns, with_sa)
        assert result["ips"][0]["address"].startswith(annotation["privateIp"])
        vlan_link = f"vlan.eth.{annotation['vlanId']}"
        assert vlan_link in node_state(node_net.netns)

        # The tutorial's check: SELECT version() works from postgres-test only.
        assert reaches_db_soon(pod_ns)
        assert not reaches_db(plain_ns, timeout=2)

        # The fabric follows EC2: without the database group's rule, no access.
        rule = {
            "IpProtocol": "tcp",
            "FromPort": t.DB_PORT,
            "ToPort": t.DB_PORT,
            "UserIdGroupPairs": [{"GroupId": aws.rds_access_sg}],
        }
        ec2.revoke_security_group_ingress(GroupId=aws.db_sg, IpPermissions=[rule])
        enforce()
        assert not reaches_db(pod_ns, timeout=2)
        ec2.authorize_security_group_ingress(GroupId=aws.db_sg, IpPermissions=[rule])
        enforce()
        assert reaches_db_soon(pod_ns)

        # Deleting postgres-test: the runtime's DEL removes its plumbing; the controller
        # releases the branch ENI after the (shortened) cooldown.
        agent.cni("DEL", "c-postgres-test", pod_ns, with_sa, prev_result=result)
        state = node_state(node_net.netns)
        assert vlan_link not in state
        assert f"lookup {annotation['vlanId'] + 100}" not in state
    finally:
        agent.stop()

    core.delete_namespaced_pod(t.POD_WITH_SA, t.NAMESPACE)
    controller.converge()
    held = BranchENI.objects.get(eni_id=annotation["eniId"])
    assert held.state == BranchENIState.COOLING
    monkeypatch.setenv("SGPADMIN_MIN_COOLDOWN_SECONDS", "0")
    Cluster.objects.filter(pk=cluster.pk).update(branch_cooldown_seconds=1)
    cluster.refresh_from_db()
    time.sleep(1.2)
    process_node_queue(cluster, aws.node_name)
    held.refresh_from_db()
    assert held.state == BranchENIState.DELETED
    remaining = ec2.describe_network_interfaces(
        Filters=[{"Name": "network-interface-id", "Values": [annotation["eniId"]]}]
    )["NetworkInterfaces"]
    assert remaining == []
