"""factory_boy factories for inventory rows (clusters, nodes, pods, service accounts,
trunk and branch ENIs, attachments)."""

from __future__ import annotations

from datetime import UTC, datetime

import factory

from apps.inventory.models import (
    Attachment,
    BranchENI,
    BranchENIState,
    Cluster,
    Node,
    Pod,
    ServiceAccount,
    TrunkENI,
)


class ClusterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cluster
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"cluster-{n}")
    vpc_id = "vpc-0123abcd"


class NodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Node

    cluster = factory.SubFactory(ClusterFactory)
    name = factory.Sequence(lambda n: f"ip-10-0-0-{n}.us-west-2.compute.internal")
    instance_id = factory.Sequence(lambda n: f"i-{n:017x}")
    instance_type = "m5.large"
    managed = True
    branch_capacity = 9


class ServiceAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceAccount

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "default"
    name = factory.Sequence(lambda n: f"sa-{n}")
    labels = factory.LazyFunction(dict)


class PodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pod

    cluster = factory.SubFactory(ClusterFactory)
    namespace = "default"
    name = factory.Sequence(lambda n: f"pod-{n}")
    uid = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")
    node_name = "node-a"
    service_account_name = "default"
    labels = factory.LazyFunction(dict)
    phase = Pod.Phase.RUNNING


class TrunkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrunkENI

    cluster = factory.SelfAttribute("node.cluster")
    node = factory.SubFactory(NodeFactory)
    eni_id = factory.Sequence(lambda n: f"eni-{n:017x}")


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BranchENI

    trunk = factory.SubFactory(TrunkFactory)
    cluster = factory.SelfAttribute("trunk.cluster")
    node_name = factory.SelfAttribute("trunk.node.name")
    eni_id = factory.Sequence(lambda n: f"eni-b{n:016x}")
    vlan_id = 1
    pod_uid = factory.Sequence(lambda n: f"pod-uid-{n}")
    pod_namespace = "default"
    pod_name = factory.Sequence(lambda n: f"pod-{n}")
    state = BranchENIState.ATTACHED


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    cluster = factory.SubFactory(ClusterFactory)
    eni_id = "eni-0000000000000000a"
    node_name = "node-a"
    pod_uid = factory.Sequence(lambda n: f"pod-uid-{n}")
    pod_namespace = "default"
    pod_name = factory.Sequence(lambda n: f"pod-{n}")
    vlan_id = 1
    since = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)
    until = None
