"""Reference §6.2, node webhook: every upstream case, through ``POST /validate-v1-node``."""

from __future__ import annotations

import copy

import pytest

from .factories import make_cluster, post_review, review

pytestmark = pytest.mark.django_db

AWS_NODE = "system:serviceaccount:kube-system:aws-node"
TRUNK = "vpc.amazonaws.com/has-trunk-attached"
ENI_CONFIG = "vpc.amazonaws.com/eniConfig"


@pytest.fixture(autouse=True)
def one_cluster():
    return make_cluster()


def node(labels=None, taints=None, allocatable_eni="9") -> dict:
    labels = {
        "kubernetes.io/hostname": "ip-10-0-1-5",
        "kubernetes.io/os": "linux",
        **(labels or {}),
    }
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": "ip-10-0-1-5.us-west-2.compute.internal",
            "uid": "7a1e3c7e-4c55-4f0b-9b5e-5b1d2b4f7f10",
            "resourceVersion": "4711",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": labels,
            "managedFields": [{"manager": "kubelet", "operation": "Update", "apiVersion": "v1"}],
        },
        "spec": {"providerID": "aws:///us-west-2a/i-0123456789abcdef0", "taints": taints or []},
        "status": {"allocatable": {"cpu": "2", "vpc.amazonaws.com/pod-eni": allocatable_eni}},
    }


def node_review(old, new, username=AWS_NODE) -> dict:
    return review(new, "UPDATE", old=old, namespace=None, username=username, kind="Node")


def answer_for(client, answer, old, new, username=AWS_NODE):
    body = node_review(old, new, username)
    result = answer(post_review(client, body, path="/validate-v1-node"))
    assert result.uid == body["request"]["uid"] and result.patch is None
    return result


def test_another_user_may_change_anything(client, answer):
    result = answer_for(client, answer, node(), node(labels={"team": "x"}), username="kubelet")
    assert result.allowed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {TRUNK: "true"}),
        ({TRUNK: "false"}, {TRUNK: "true"}),
        ({TRUNK: "true"}, {}),
        ({}, {ENI_CONFIG: "us-west-2a"}),
        ({ENI_CONFIG: "us-west-2a"}, {ENI_CONFIG: "us-west-2b", TRUNK: "true"}),
    ],
)
def test_aws_node_may_change_the_trunk_and_eniconfig_labels(client, answer, before, after):
    assert answer_for(client, answer, node(before), node(after)).allowed


def test_aws_node_changes_to_managed_fields_and_self_link_are_ignored(client, answer):
    new = node({TRUNK: "true"})
    new["metadata"]["managedFields"] = []
    new["metadata"]["selfLink"] = "/api/v1/nodes/x"
    assert answer_for(client, answer, node(), new).allowed


@pytest.mark.parametrize(
    "change",
    ["label", "taint", "status"],
)
def test_aws_node_may_change_nothing_else(client, answer, change):
    old = node()
    new = copy.deepcopy(old)
    if change == "label":
        new["metadata"]["labels"]["team"] = "payments"
    elif change == "taint":
        new["spec"]["taints"] = [{"key": "k", "value": "v", "effect": "NoSchedule"}]
    else:
        new["status"]["allocatable"]["vpc.amazonaws.com/pod-eni"] = "120"
    result = answer_for(client, answer, old, new)
    assert not result.allowed
    assert result.message == "aws-node can only update limited fields on the Node Object"


def test_a_pod_review_sent_to_the_node_webhook_is_a_400(client):
    body = node_review(node(), node())
    body["request"]["kind"] = {"group": "", "version": "v1", "kind": "Pod"}
    response = post_review(client, body, path="/validate-v1-node")
    assert response.status_code == 400
    assert b"core/v1 Nodes" in response.content
