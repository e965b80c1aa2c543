"""AWS's security-groups-for-pods tutorial, as data and steps against the local stand-ins.

The world: cluster ``sgp-cluster`` in its VPC; one m5.xlarge node; the cluster security
group; ``RDSDbAccessSG`` for the apps that need the database; a database host whose group
admits port 5432 only from ``RDSDbAccessSG``; service account ``rds-db-access`` labelled
``role: backend``; policy ``my-sg-policy`` selecting that service account and listing both
groups; pods ``postgres-test`` (with the service account) and ``postgres-test-no-sa``.

The demo and the end-to-end test both play it. The scenario driver plays the parts of the
Kubernetes scheduler and of the API server's admission call (the emulator calls no
webhooks): :func:`admit` sends the pod to ``/mutate-v1-pod`` and applies the JSON Patch.
"""

from __future__ import annotations

import base64
import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from standins.ec2.seeding import allow_tcp, create_security_group, create_subnet, create_vpc

CLUSTER = "sgp-cluster"
REGION = "us-west-2"
VPC_CIDR = "10.0.0.0/16"
NODE_SUBNET = "10.0.0.0/24"
DB_SUBNET = "10.0.2.0/24"
NODE_IP = "10.0.0.10"
PLAIN_POD_IP = "10.0.0.21"  # postgres-test-no-sa: a secondary IP of the node's primary ENI
DB_IP = "10.0.2.10"
DB_PORT = 5432
INSTANCE_TYPE = "m5.xlarge"
NAMESPACE = "default"
SERVICE_ACCOUNT = "rds-db-access"
POLICY = "my-sg-policy"
POD_WITH_SA = "postgres-test"
POD_WITHOUT_SA = "postgres-test-no-sa"
POD_ENI = "vpc.amazonaws.com/pod-eni"


@dataclass(frozen=True)
class AwsWorld:
    vpc_id: str
    node_subnet_id: str
    db_subnet_id: str
    cluster_sg: str
    rds_access_sg: str
    db_sg: str
    instance_id: str
    node_eni_id: str
    node_mac: str
    db_eni_id: str

    @property
    def node_name(self) -> str:
        return f"ip-{NODE_IP.replace('.', '-')}.{REGION}.compute.internal"


def seed_aws(ec2: Any) -> AwsWorld:
    """The tutorial's VPC, groups, node instance and database ENI, in the EC2 stand-in."""
    vpc_id = create_vpc(ec2, VPC_CIDR)
    node_subnet = create_subnet(ec2, vpc_id, NODE_SUBNET)
    db_subnet = create_subnet(ec2, vpc_id, DB_SUBNET)
    cluster_sg = create_security_group(
        ec2, vpc_id, f"eks-cluster-sg-{CLUSTER}", description="EKS cluster security group"
    )
    # Members of the cluster group talk to each other freely (as EKS's cluster group does).
    ec2.authorize_security_group_ingress(
        GroupId=cluster_sg,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": cluster_sg}]}],
    )
    rds_access_sg = create_security_group(
        ec2, vpc_id, "RDSDbAccessSG", description="Apps that may reach the database"
    )
    db_sg = create_security_group(
        ec2,
        vpc_id,
        "rds-postgres",
        [allow_tcp(DB_PORT, source_group_id=rds_access_sg)],
        description="The database: port 5432 from RDSDbAccessSG only",
    )
    instance = ec2.run_instances(
        ImageId="ami-0123456789abcdef0",
        MinCount=1,
        MaxCount=1,
        InstanceType=INSTANCE_TYPE,
        SubnetId=node_subnet,
        PrivateIpAddress=NODE_IP,
        SecurityGroupIds=[cluster_sg],
    )["Instances"][0]
    primary = next(n for n in instance["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0)
    ec2.assign_private_ip_addresses(
        NetworkInterfaceId=primary["NetworkInterfaceId"], PrivateIpAddresses=[PLAIN_POD_IP]
    )
    db_eni = ec2.create_network_interface(
        SubnetId=db_subnet, Groups=[db_sg], PrivateIpAddress=DB_IP, Description="RDS postgres"
    )["NetworkInterface"]
    return AwsWorld(
        vpc_id=vpc_id,
        node_subnet_id=node_subnet,
        db_subnet_id=db_subnet,
        cluster_sg=cluster_sg,
        rds_access_sg=rds_access_sg,
        db_sg=db_sg,
        instance_id=instance["InstanceId"],
        node_eni_id=primary["NetworkInterfaceId"],
        node_mac=primary["MacAddress"],
        db_eni_id=db_eni["NetworkInterfaceId"],
    )


def seed_kubernetes(core: Any, custom: Any, aws: AwsWorld) -> None:
    """The node (asking for a trunk through its CNINode) and the service accounts."""
    core.create_node(
        {
            "metadata": {
                "name": aws.node_name,
                "labels": {
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/hostname": aws.node_name,
                    "node.kubernetes.io/instance-type": INSTANCE_TYPE,
                    "topology.kubernetes.io/region": REGION,
                },
            },
            "spec": {"providerID": f"aws:///{REGION}a/{aws.instance_id}"},
            "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "58"}},
        }
    )
    custom.create_cluster_custom_object(
        "vpcresources.k8s.aws",
        "v1alpha1",
        "cninodes",
        {
            "apiVersion": "vpcresources.k8s.aws/v1alpha1",
            "kind": "CNINode",
            "metadata": {"name": aws.node_name},
            "spec": {"features": [{"name": "SecurityGroupsForPods"}]},
        },
    )
    for name, labels in (("default", {}), (SERVICE_ACCOUNT, {"role": "backend"})):
        core.create_namespaced_service_account(
            NAMESPACE, {"metadata": {"name": name, "namespace": NAMESPACE, "labels": labels}}
        )


def cluster_fields(aws: AwsWorld, kube_url: str, ec2_url: str) -> dict[str, Any]:
    """The Cluster as ``POST /api/clusters/`` takes it."""
    return {
        "name": CLUSTER,
        "region": REGION,
        "vpc_id": aws.vpc_id,
        "description": "The security-groups-for-pods tutorial, on local stand-ins",
        "kube_api_url": kube_url,
        "ec2_endpoint_url": ec2_url,
        "branch_cooldown_seconds": 30,
    }


def policy_fields(aws: AwsWorld) -> dict[str, Any]:
    """``my-sg-policy`` as ``POST /api/policies/`` takes it."""
    return {
        "cluster": CLUSTER,
        "namespace": NAMESPACE,
        "name": POLICY,
        "description": "Backend apps reach the database (tutorial)",
        "spec": {
            "serviceAccountSelector": {"matchLabels": {"role": "backend"}},
            "securityGroups": {"groupIds": [aws.rds_access_sg, aws.cluster_sg]},
        },
        "changelog_message": "Let backend pods reach the database",
        "ticket_ref": "SEC-1",
    }


def pod_manifest(name: str, service_account: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "postgres-test",
                "image": "postgres",
                "command": ["sleep", "infinity"],
                "env": [{"name": "HOST", "value": DB_IP}],
            }
        ],
    }
    if service_account:
        spec["serviceAccountName"] = service_account
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": name}},
        "spec": spec,
    }


def admission_review(pod: dict[str, Any], operation: str = "CREATE") -> dict[str, Any]:
    """The AdmissionReview the API server sends for a new pod (object without namespace)."""
    obj = copy.deepcopy(pod)
    obj["metadata"].pop("namespace", None)
    obj["spec"].setdefault("serviceAccountName", "default")
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": NAMESPACE,
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.lstrip("/").split("/")]


def apply_json_patch(document: dict[str, Any], patch: list[dict[str, Any]]) -> dict[str, Any]:
    """Apply the add/replace/remove operations a mutating webhook answers with."""
    result = copy.deepcopy(document)
    for op in patch:
        *parents, last = _pointer(op["path"])
        target: Any = result
        for token in parents:
            target = target[int(token)] if isinstance(target, list) else target[token]
        if isinstance(target, list):
            index = len(target) if last == "-" else int(last)
            if op["op"] == "add":
                target.insert(index, op["value"])
            elif op["op"] == "replace":
                target[index] = op["value"]
            else:
                del target[index]
        elif op["op"] in ("add", "replace"):
            target[last] = op["value"]
        elif op["op"] == "remove":
            del target[last]
        else:
            raise ValueError(f"unsupported JSON Patch op {op['op']!r}")
    return result


class AdmissionDenied(Exception):
    pass


def admit(send: Callable[[dict[str, Any]], dict[str, Any]], pod: dict[str, Any]) -> dict[str, Any]:
    """What the API server does with the mutating webhook: ask, then apply its patch."""
    review = admission_review(pod)
    answer = send(review)["response"]
    if answer["uid"] != review["request"]["uid"]:
        raise AdmissionDenied("the webhook answered another request")
    if not answer["allowed"]:
        raise AdmissionDenied(answer.get("status", {}).get("message", "denied"))
    if answer.get("patchType") == "JSONPatch":
        return apply_json_patch(pod, json.loads(base64.b64decode(answer["patch"])))
    return pod


def requests_pod_eni(pod: dict[str, Any]) -> bool:
    resources = pod["spec"]["containers"][0].get("resources") or {}
    return (
        resources.get("limits", {}).get(POD_ENI) == "1"
        and resources.get("requests", {}).get(POD_ENI) == "1"
    )


def schedule(core: Any, pod: dict[str, Any], node_name: str) -> dict[str, Any]:
    """What the scheduler does for us: bind the pod to the node (here: create it bound)."""
    bound = copy.deepcopy(pod)
    bound["spec"]["nodeName"] = node_name
    bound.setdefault("status", {})["phase"] = "Running"
    created = core.create_namespaced_pod(NAMESPACE, bound)
    return created.to_dict() if hasattr(created, "to_dict") else created
