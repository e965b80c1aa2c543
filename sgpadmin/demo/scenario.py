"""The demo's scenario driver: plays the tutorial against the running processes.

It talks to sgpadmin only as outsiders do: the REST API with a token (as a ticketing
system would), and ``/mutate-v1-pod`` (as the API server would). It plays the Kubernetes
scheduler, and — as root — the container runtime on the demo node.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import boto3
import kubernetes
import requests

from standins.fabric import fabric_from_ec2
from standins.kubernetes import api_client

from . import tutorial as t
from .processes import wait_for


class Scenario:
    def __init__(
        self,
        web: str,
        ec2_url: str,
        kube_url: str,
        run_dir: Path,
        token: str,
        say: Callable[[str], None],
    ) -> None:
        self.web, self.ec2_url, self.kube_url, self.run_dir, self.say = (
            web,
            ec2_url,
            kube_url,
            run_dir,
            say,
        )
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.ec2 = boto3.client(
            "ec2",
            endpoint_url=ec2_url,
            region_name=t.REGION,
            aws_access_key_id="demo",
            aws_secret_access_key="demo",
        )
        client = api_client(kube_url)
        self.core = kubernetes.client.CoreV1Api(client)
        self.custom = kubernetes.client.CustomObjectsApi(client)
        self.ok = False
        self.lab = None
        self.agent = None

    # -- helpers -------------------------------------------------------------------------
    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, f"{self.web}{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response

    def wait(self, what: str, check, timeout: float = 90.0):
        return wait_for(what, check, timeout)

    def wait_for_web(self, group) -> None:
        def up():
            if group.first_exited() is not None:
                raise RuntimeError("a process stopped while the web app was starting")
            try:
                return requests.get(f"{self.web}/health/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        self.wait("the web app", up, timeout=120)

    # -- the world -----------------------------------------------------------------------
    def seed(self) -> None:
        self.aws = t.seed_aws(self.ec2)
        t.seed_kubernetes(self.core, self.custom, self.aws)
        self.say(
            f"EC2: VPC {self.aws.vpc_id}, node {self.aws.instance_id} ({t.INSTANCE_TYPE}), "
            f"RDSDbAccessSG {self.aws.rds_access_sg}, cluster SG {self.aws.cluster_sg}"
        )
        fields = t.cluster_fields(self.aws, self.kube_url, self.ec2_url)
        found = self.api("GET", f"/api/clusters/?name={t.CLUSTER}").json()["results"]
        if found:
            changes = {k: fields[k] for k in ("vpc_id", "kube_api_url", "ec2_endpoint_url")}
            changes["changelog_message"] = "demo restart: the stand-ins are new"
            self.api("PATCH", f"/api/clusters/{found[0]['id']}/", json=changes)
        else:
            self.api("POST", "/api/clusters/", json=fields)
        policy = t.policy_fields(self.aws)
        query = f"/api/policies/?cluster={t.CLUSTER}&namespace={t.NAMESPACE}&name={t.POLICY}"
        found = self.api("GET", query).json()["results"]
        if found:
            if found[0]["spec"] != policy["spec"]:
                self.api(
                    "PATCH",
                    f"/api/policies/{found[0]['id']}/",
                    json={
                        "spec": policy["spec"],
                        "changelog_message": "demo restart: group ids of the new EC2 stand-in",
                    },
                )
        else:
            self.api("POST", "/api/policies/", json=policy)
        self.say(f"policy {t.NAMESPACE}/{t.POLICY} selects service accounts role=backend")

    def play(self, group) -> None:
        node = self.wait("the node's trunk ENI and branch capacity", self._capacity)
        self.say(f"node {self.aws.node_name}: trunk ENI ready, {node} branch ENIs advertised")
        # The webhook answers from sgpadmin's inventory: wait until the watcher has seen the
        # service account (a real API server would retry a pod the webhook denied).
        self.wait("the service account in sgpadmin's inventory", self._account_known)
        time.sleep(1.0)  # the webhook's cache revalidates within a second
        pods = {}
        for name, account in ((t.POD_WITH_SA, t.SERVICE_ACCOUNT), (t.POD_WITHOUT_SA, None)):
            admitted = t.admit(self._review, t.pod_manifest(name, account))
            wants = (
                "requests vpc.amazonaws.com/pod-eni"
                if t.requests_pod_eni(admitted)
                else "no branch ENI"
            )
            self.say(f"webhook admitted {name}: {wants}")
            pods[name] = t.schedule(self.core, admitted, self.aws.node_name)
        annotation = self.wait(f"{t.POD_WITH_SA}'s branch ENI", self._annotation)
        self.say(
            f"{t.POD_WITH_SA}: branch ENI {annotation['eniId']} on VLAN "
            f"{annotation['vlanId']}, IP {annotation['privateIp']}"
        )
        if os.geteuid() != 0:
            self.say("not root: running without node plumbing (namespaces need root)")
            self.ok = True
            return
        self._plumb(pods, annotation)

    def _account_known(self) -> bool:
        query = f"/api/service-accounts/?namespace={t.NAMESPACE}&name={t.SERVICE_ACCOUNT}"
        return bool(self.api("GET", query).json()["results"])

    def _capacity(self):
        node = self.core.read_node(self.aws.node_name)
        return (node.status.capacity or {}).get(t.POD_ENI)

    def _annotation(self):
        pod = self.core.read_namespaced_pod(t.POD_WITH_SA, t.NAMESPACE)
        value = (pod.metadata.annotations or {}).get(t.POD_ENI)
        return json.loads(value)[0] if value else None

    def _review(self, review: dict) -> dict:
        return self.api("POST", "/mutate-v1-pod", json=review).json()

    # -- the node, as root ---------------------------------------------------------------
    def _plumb(self, pods: dict, annotation: dict) -> None:
        from standins.dbhost import PostgresServer, postgres_binaries, query_from
        from standins.netlab import VpcLab

        from .node_agent import NodeAgent

        trunk = next(
            eni
            for eni in self.ec2.describe_network_interfaces(
                Filters=[{"Name": "attachment.instance-id", "Values": [self.aws.instance_id]}]
            )["NetworkInterfaces"]
            if eni.get("InterfaceType") == "trunk"
        )
        self.lab = lab = VpcLab("sgpdemo").up()
        node = lab.add_node("n1", t.NODE_IP, t.NODE_SUBNET, self.aws.node_mac, trunk["MacAddress"])
        db = lab.add_host("db", t.DB_IP, t.DB_SUBNET)
        if postgres_binaries() is None:
            self.say("no PostgreSQL server binaries here: skipping the database check")
            return
        lab.closers.append(PostgresServer(db, t.DB_IP, t.DB_PORT))
        plain = lab.plain_pod(node, "nosa", t.PLAIN_POD_IP)
        lab.route_eni(annotation["privateIp"], node.trunk_link, annotation["ifAddress"])
        links = {self.aws.node_eni_id: node.primary_link, self.aws.db_eni_id: lab.host_link("db")}
        lab.enforce(fabric_from_ec2(self.ec2, links, node.trunk_link))
        workdir = self.run_dir / "node-agent"
        workdir.mkdir(exist_ok=True)
        self.agent = NodeAgent(
            node,
            self.aws.node_name,
            self.run_dir / "kubeconfig",
            workdir,
            report_url=self.web,
            report_token=self._node_token(),
            report_interval=15,
        ).start()
        with_sa = lab.pod_netns("pt")
        self.agent.cni("ADD", "demo-postgres-test", with_sa, pods[t.POD_WITH_SA])
        self.say(f"node agent plumbed {t.POD_WITH_SA} (vlan.eth.{annotation['vlanId']})")
        for name, netns in ((t.POD_WITH_SA, with_sa), (t.POD_WITHOUT_SA, plain)):
            answer = query_from(netns, t.DB_IP, timeout=3)
            self.say(
                f"{name}: SELECT version() -> {answer or 'timed out (blocked by the database SG)'}"
            )
        self.ok = True

    def _node_token(self) -> str:
        from django.contrib.auth import get_user_model

        from apps.accounts.models import APIToken
        from apps.inventory.models import Cluster

        owner, _ = get_user_model().objects.get_or_create(username="node-agent")
        cluster = Cluster.objects.get(name=t.CLUSTER)
        return APIToken.issue(
            owner,
            cluster=cluster,
            node_name=self.aws.node_name,
            write_enabled=True,
            description="demo node agent",
        )[1]

    def close(self) -> None:
        if self.agent is not None:
            self.agent.stop()
            self.agent = None
        if self.lab is not None:
            self.lab.down()
            self.lab = None
