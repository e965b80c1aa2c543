"""Every API endpoint through the generic battery in apps.core.testing.api."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import ChangeRecord
from apps.core.testing.api import ReadOnlyEndpointTests, ReadWriteAPITests
from apps.core.testing.clients import client_with_role
from tests.factories import (
    AttachmentFactory,
    BranchENIFactory,
    ClusterFactory,
    NodeFactory,
    PodFactory,
    PolicyFactory,
    SecurityGroupFactory,
    ServiceAccountFactory,
    TrunkENIFactory,
    policy_spec,
)


class TestPolicyAPI(ReadWriteAPITests):
    basename = "policy"

    def make_object(self, cluster):
        return PolicyFactory(cluster=cluster)

    def create_payload(self, cluster):
        return {
            "cluster": cluster.name,
            "namespace": "team-a",
            "name": "web-db-access",
            "spec": policy_spec("sg-0123456789abcdef0"),
            "description": "web pods reach the database",
        }

    def update_payload(self, obj):
        return {"spec": policy_spec("sg-0123456789abcdef1", "sg-0123456789abcdef2")}


class TestClusterAPI(ReadWriteAPITests):
    basename = "cluster"
    write_role = "admin"
    write_global = True

    def make_object(self, cluster):
        return cluster

    def create_payload(self, cluster):
        return {"name": "gamma", "region": "eu-west-1", "vpc_id": "vpc-0123abcd"}

    def update_payload(self, obj):
        return {"description": f"{obj.name} updated", "branch_cooldown_seconds": 90}

    def test_list_runs_constant_number_of_queries(self, alpha):
        """Clusters are the scope itself: grow the list with a global viewer instead."""
        client = client_with_role("viewer")
        client.get(self.list_url())
        with CaptureQueriesContext(connection) as one:
            client.get(self.list_url())
        ClusterFactory.create_batch(5)
        with CaptureQueriesContext(connection) as many:
            response = client.get(self.list_url())
        assert len(self.ids(response)) == 6
        assert len(many) == len(one)


class TestNodeAPI(ReadOnlyEndpointTests):
    basename = "node"

    def make_object(self, cluster):
        return NodeFactory(cluster=cluster)


class TestPodAPI(ReadOnlyEndpointTests):
    basename = "pod"

    def make_object(self, cluster):
        return PodFactory(cluster=cluster)


class TestServiceAccountAPI(ReadOnlyEndpointTests):
    basename = "serviceaccount"

    def make_object(self, cluster):
        return ServiceAccountFactory(cluster=cluster)


class TestSecurityGroupAPI(ReadOnlyEndpointTests):
    basename = "securitygroup"

    def make_object(self, cluster):
        return SecurityGroupFactory(cluster=cluster)


class TestTrunkENIAPI(ReadOnlyEndpointTests):
    basename = "trunkeni"

    def make_object(self, cluster):
        return TrunkENIFactory(node=NodeFactory(cluster=cluster))


class TestBranchENIAPI(ReadOnlyEndpointTests):
    basename = "brancheni"

    def make_object(self, cluster):
        return BranchENIFactory(trunk=TrunkENIFactory(node=NodeFactory(cluster=cluster)))


class TestAttachmentAPI(ReadOnlyEndpointTests):
    basename = "attachment"

    def make_object(self, cluster):
        return AttachmentFactory(cluster=cluster)


class TestChangeRecordAPI(ReadOnlyEndpointTests):
    basename = "change"

    def make_object(self, cluster):
        policy = PolicyFactory(cluster=cluster)
        return ChangeRecord.objects.filter(object_id=str(policy.pk), cluster=cluster.name).latest("id")
