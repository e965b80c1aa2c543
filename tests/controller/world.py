"""A small world for controller tests: seeded EC2 instances, their Kubernetes nodes, pods.

Used by the tests, the concurrency tests and the benchmark; it talks only to the stand-ins.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import kubernetes.client

from apps.controller.core.constants import POD_ENI, SGP_FEATURE, TRUNK_LABEL
from standins.ec2.seeding import seed_world


@dataclass
class World:
    cluster: Any
    ec2_seeder: Any
    core: kubernetes.client.CoreV1Api
    custom: kubernetes.client.CustomObjectsApi
    instances: list = field(default_factory=list)
    vpc_id: str = ""
    node_group_id: str = ""
    group_ids: dict = field(default_factory=dict)

    def node_name(self, index: int) -> str:
        return f"node-{index}"

    def add_node(self, index: int, *, label: bool = True, feature: bool = False,
                 os_name: str = "linux", instance_type: str | None = None) -> dict:
        instance = self.instances[index]
        labels = {"kubernetes.io/os": os_name,
                  "node.kubernetes.io/instance-type": instance_type or instance.instance_type}
        if label:
            labels[TRUNK_LABEL] = "false"
        body = {"metadata": {"name": self.node_name(index), "labels": labels},
                "spec": {"providerID": f"aws:///us-west-2a/{instance.instance_id}"},
                "status": {"capacity": {"cpu": "2"}}}
        node = self.core.create_node(body)
        if feature:
            self.custom.create_cluster_custom_object(
                "vpcresources.k8s.aws", "v1alpha1", "cninodes",
                {"apiVersion": "vpcresources.k8s.aws/v1alpha1", "kind": "CNINode",
                 "metadata": {"name": self.node_name(index)},
                 "spec": {"features": [{"name": SGP_FEATURE}]}})
        return node

    def add_pod(self, name: str, node_index: int | None, *, namespace: str = "default",
                labels: dict | None = None, eni: bool = True, service_account: str = "default"
                ) -> dict:
        resources = {"requests": {POD_ENI: "1"}, "limits": {POD_ENI: "1"}} if eni else {}
        spec: dict = {"containers": [{"name": "app", "image": "nginx", "resources": resources}],
                      "serviceAccountName": service_account}
        if node_index is not None:
            spec["nodeName"] = self.node_name(node_index)
        body = {"metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
                "spec": spec}
        created = self.core.create_namespaced_pod(namespace, body)
        return self.core.api_client.sanitize_for_serialization(created)

    def pod(self, name: str, namespace: str = "default") -> dict:
        return self.core.api_client.sanitize_for_serialization(
            self.core.read_namespaced_pod(name, namespace))

    def events(self, name: str, namespace: str = "default") -> list[tuple[str, str, str]]:
        items = sorted(self.core.list_namespaced_event(namespace).items,
                       key=lambda e: int(e.metadata.resource_version))  # creation order
        return [(e.type, e.reason, e.message) for e in items if e.involved_object.name == name]


def build_world(cluster_model, ec2_standin, kube_url: str, *, instance_types=("m5.large",),
                name: str = "demo") -> World:
    seeder = ec2_standin.seeder()
    seeded = seed_world(seeder, instance_types=list(instance_types),
                        security_groups={"web": [], "db": []})
    cluster = cluster_model.objects.create(
        name=name, vpc_id=seeded.vpc_id, kube_api_url=kube_url,
        ec2_endpoint_url=ec2_standin.endpoint_url, region="us-west-2")
    configuration = kubernetes.client.Configuration()
    configuration.host = kube_url
    api = kubernetes.client.ApiClient(configuration)
    return World(cluster, seeder, kubernetes.client.CoreV1Api(api),
                 kubernetes.client.CustomObjectsApi(api), list(seeded.instances),
                 seeded.vpc_id, seeded.node_security_group_id, dict(seeded.security_group_ids))
