"""A small world for the UI tests: one cluster in scope (alpha) with nodes, pods, branch
ENIs, policies and history; one out of scope (beta); users per role with browser clients."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.test import Client

from apps.core.testing.clients import make_user
from apps.inventory.models import BranchENIState, Pod
from tests.factories import (
    AttachmentFactory,
    BranchENIFactory,
    NodeFactory,
    PodFactory,
    PolicyFactory,
    SecurityGroupFactory,
    ServiceAccountFactory,
    TrunkENIFactory,
    policy_spec,
)

SG_WEB = "sg-0123456789abcdef0"
SG_DB = "sg-0fedcba9876543210"


@dataclass
class World:
    alpha: object
    beta: object
    busy_node: object
    quiet_node: object
    web_pod: object
    db_pod: object
    waiting_pod: object
    web_policy: object
    beta_policy: object
    group: object
    beta_node: object


@pytest.fixture
def world(alpha, beta):
    busy = NodeFactory(cluster=alpha, name="node-busy", branch_capacity=5)
    quiet = NodeFactory(cluster=alpha, name="node-quiet", branch_capacity=9)
    busy_trunk = TrunkENIFactory(node=busy, eni_id="eni-0aaaaaaaaaaaaaaa1")
    TrunkENIFactory(node=quiet, eni_id="eni-0aaaaaaaaaaaaaaa2")
    ServiceAccountFactory(cluster=alpha, namespace="team-a", name="default", labels={})
    web = PodFactory(
        cluster=alpha,
        name="web-1",
        node_name="node-busy",
        labels={"app": "web"},
        requests_pod_eni=True,
    )
    db_pod = PodFactory(cluster=alpha, name="db-1", node_name="node-quiet", labels={"app": "db"})
    waiting = PodFactory(
        cluster=alpha,
        name="web-2",
        node_name="node-busy",
        labels={"app": "web"},
        requests_pod_eni=True,
        phase=Pod.Phase.PENDING,
    )
    BranchENIFactory(
        trunk=busy_trunk,
        vlan_id=1,
        pod_uid=web.uid,
        pod_name="web-1",
        eni_id="eni-0bbbbbbbbbbbbbbb1",
        private_ip="10.0.1.20",
        mac="02:00:00:00:00:01",
        security_group_ids=[SG_WEB],
    )
    BranchENIFactory(trunk=busy_trunk, vlan_id=2, pod_name="old-1", state=BranchENIState.COOLING)
    BranchENIFactory(trunk=busy_trunk, vlan_id=3, pod_name="old-2", state=BranchENIState.ATTACHED)
    BranchENIFactory(trunk=busy_trunk, vlan_id=4, pod_name="old-3", state=BranchENIState.DELETING)
    web_policy = PolicyFactory(
        cluster=alpha, name="web", spec=policy_spec(SG_WEB, labels={"app": "web"})
    )
    beta_policy = PolicyFactory(cluster=beta, name="beta-web")
    group = SecurityGroupFactory(cluster=alpha, group_id=SG_WEB, name="web")
    beta_node = NodeFactory(cluster=beta, name="beta-node")
    AttachmentFactory(
        cluster=alpha,
        eni_id="eni-0ccccccccccccccc1",
        node_name="node-busy",
        pod_name="gone-1",
        private_ip="10.0.1.99",
        security_group_ids=[SG_DB],
        since=datetime(2026, 1, 1, 13, 0, tzinfo=UTC),
        until=datetime(2026, 1, 1, 14, 0, tzinfo=UTC),
    )
    AttachmentFactory(
        cluster=alpha,
        eni_id="eni-0ccccccccccccccc2",
        node_name="node-quiet",
        pod_name="later-1",
        private_ip="10.0.1.99",
        security_group_ids=[SG_WEB],
        since=datetime(2026, 1, 1, 15, 0, tzinfo=UTC),
        until=None,
    )
    return World(
        alpha, beta, busy, quiet, web, db_pod, waiting, web_policy, beta_policy, group, beta_node
    )


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def viewer(world):
    return browser_for(make_user("viewer", world.alpha))


@pytest.fixture
def editor(world):
    return browser_for(make_user("editor", world.alpha))


@pytest.fixture
def beta_viewer(world):
    """A viewer whose only role is on the other cluster."""
    return browser_for(make_user("viewer", world.beta))


@pytest.fixture
def admin(world):
    return browser_for(make_user("admin"))


@pytest.fixture
def eager_jobs():
    """Run queued Celery tasks in-process for the duration of the test."""
    from sgpadmin.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous
