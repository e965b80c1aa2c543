"""factory_boy factories shared by the API, accounts and audit tests."""

from __future__ import annotations

from datetime import UTC, datetime

import factory

from apps.accounts.models import RoleBinding, User
from apps.inventory.models import (
    Attachment,
    BranchENI,
    BranchENIState,
    Cluster,
    Node,
    Pod,
    SecurityGroup,
    ServiceAccount,
    TrunkENI,
)
from apps.policies.models import Policy


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class RoleBindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleBinding

    user = factory.SubFactory(UserFactory)
    role = "viewer"
    cluster = None
    namespace = ""


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"cluster-{n}")
    vpc_id = factory.Sequence(lambda n: f"vpc-{n:08x}")


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    cluster = factory.SubFactory(ClusterFactory)
    name = factory.Sequence(lambda n: f"ip-10-0-{n // 250}-{n % 250}.us-west-2.compute.internal")
    instance_id = factory.Sequence(lambda n: f"i-{n:017x}")
    instance_type = "m5.large"
    managed = True
    branch_capacity = 9


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "team-a"
    name = factory.Sequence(lambda n: f"sa-{n}")
    labels = factory.LazyFunction(dict)


class PodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pod

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "team-a"
    name = factory.Sequence(lambda n: f"pod-{n}")
    uid = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")
    node_name = "node-a"
    service_account_name = "default"
    labels = factory.LazyFunction(dict)
    phase = Pod.Phase.RUNNING


class SecurityGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityGroup

    cluster = factory.SubFactory(ClusterFactory)
    group_id = factory.Sequence(lambda n: f"sg-{n:017x}")
    name = factory.Sequence(lambda n: f"group-{n}")


class TrunkENIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrunkENI

    node = factory.SubFactory(NodeFactory)
    cluster = factory.SelfAttribute("node.cluster")
    eni_id = factory.Sequence(lambda n: f"eni-{n:017x}")


class BranchENIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchENI

    trunk = factory.SubFactory(TrunkENIFactory)
    cluster = factory.SelfAttribute("trunk.cluster")
    node_name = factory.SelfAttribute("trunk.node.name")
    eni_id = factory.Sequence(lambda n: f"eni-b{n:016x}")
    vlan_id = factory.Sequence(lambda n: n % 120 + 1)
    pod_uid = factory.Sequence(lambda n: f"pod-uid-{n}")
    pod_namespace = "team-a"
    pod_name = factory.Sequence(lambda n: f"pod-{n}")
    state = BranchENIState.ATTACHED


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    cluster = factory.SubFactory(ClusterFactory)
    eni_id = factory.Sequence(lambda n: f"eni-a{n:016x}")
    node_name = "node-a"
    pod_uid = factory.Sequence(lambda n: f"pod-uid-{n}")
    pod_namespace = "team-a"
    pod_name = factory.Sequence(lambda n: f"pod-{n}")
    private_ip = factory.Sequence(lambda n: f"10.0.{n // 250}.{n % 250 + 1}")
    vlan_id = 1
    since = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)
    until = None


def policy_spec(*group_ids: str, labels: dict | None = None) -> dict:
    return {
        "podSelector": {"matchLabels": labels if labels is not None else {"app": "web"}},
        "securityGroups": {"groupIds": list(group_ids or ("sg-0123456789abcdef0",))},
    }


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Policy

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "team-a"
    name = factory.Sequence(lambda n: f"policy-{n}")
    spec = factory.LazyFunction(policy_spec)
