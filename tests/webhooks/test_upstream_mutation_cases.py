"""Reference §6.2, pod mutation: every upstream case, through ``POST /mutate-v1-pod`` with
AdmissionReviews as kube-apiserver sends them and policies in the database."""

from __future__ import annotations

import copy

import jsonpatch
import pytest

from .factories import (
    POD_LABELS,
    SA_LABELS,
    SELECTOR,
    container,
    make_cluster,
    make_policy,
    make_service_account,
    pod,
    post_review,
    review,
)

pytestmark = pytest.mark.django_db

POD_ENI_LIMITS = "/spec/containers/0/resources/limits"
POD_ENI_REQUESTS = "/spec/containers/0/resources/requests"
ENI_TOKEN = "/vpc.amazonaws.com~1pod-eni"
IPV4_TOKEN = "/vpc.amazonaws.com~1PrivateIPv4Address"
FARGATE_SG_PATH = "/metadata/annotations/fargate.amazonaws.com~1pod-sg"
CPU_RESOURCES = {"limits": {"cpu": "100m"}, "requests": {"cpu": "200m"}}
FARGATE_LABELS = {**POD_LABELS, "eks.amazonaws.com/fargate-profile": "fargate-profile"}


@pytest.fixture
def cluster():
    """One cluster whose default namespace has a policy selecting pods like the fixture's
    (upstream's selector, by pod and by service account) and that service account."""
    cluster = make_cluster()
    make_service_account(cluster, labels=SA_LABELS)
    make_policy(cluster, pod_selector=SELECTOR, sa_selector=SELECTOR, groups=["sg-1", "sg-2"])
    return cluster


def mutate(client, answer, obj, **kwargs):
    body = review(obj, **kwargs)
    result = answer(post_review(client, body))
    assert result.uid == body["request"]["uid"]
    return result


def ops(result):
    return sorted(result.patch, key=lambda op: op["path"])


def test_linux_match_without_resource_maps_adds_both_maps_whole(client, answer, cluster):
    obj = pod(labels=POD_LABELS, containers=[container(resources={})])
    result = mutate(client, answer, obj)
    assert result.allowed and result.patch_type == "JSONPatch"
    assert ops(result) == [
        {"op": "add", "path": POD_ENI_LIMITS, "value": {"vpc.amazonaws.com/pod-eni": "1"}},
        {"op": "add", "path": POD_ENI_REQUESTS, "value": {"vpc.amazonaws.com/pod-eni": "1"}},
    ]


def test_linux_match_with_resource_maps_adds_the_key_to_each(client, answer, cluster):
    obj = pod(labels=POD_LABELS, containers=[container(resources=copy.deepcopy(CPU_RESOURCES))])
    result = mutate(client, answer, obj)
    assert result.allowed and result.patch_type == "JSONPatch"
    assert ops(result) == [
        {"op": "add", "path": POD_ENI_LIMITS + ENI_TOKEN, "value": "1"},
        {"op": "add", "path": POD_ENI_REQUESTS + ENI_TOKEN, "value": "1"},
    ]
    patched = jsonpatch.apply_patch(obj, result.patch)
    resources = patched["spec"]["containers"][0]["resources"]
    assert resources["limits"] == {"cpu": "100m", "vpc.amazonaws.com/pod-eni": "1"}
    assert resources["requests"] == {"cpu": "200m", "vpc.amazonaws.com/pod-eni": "1"}


def test_linux_match_patches_only_the_first_container(client, answer, cluster):
    obj = pod(labels=POD_LABELS, containers=[container("a"), container("b")])
    result = mutate(client, answer, obj)
    patched = jsonpatch.apply_patch(obj, result.patch)
    assert patched["spec"]["containers"][1] == obj["spec"]["containers"][1]
    assert patched["spec"]["containers"][0]["resources"]["limits"] == {
        "vpc.amazonaws.com/pod-eni": "1"
    }


def test_linux_no_match_is_allowed_without_a_patch(client, answer, cluster):
    result = mutate(client, answer, pod(labels={"role": "web"}))
    assert result.allowed
    assert result.patch is None and result.patch_type is None
    assert result.message == "Pod didn't match any SGP"


def test_linux_lookup_error_is_denied_with_the_reason(client, answer, cluster):
    obj = pod(labels=POD_LABELS, service_account="missing")
    result = mutate(client, answer, obj)
    assert not result.allowed
    assert result.status["code"] == 403
    assert result.message.startswith("Failed to get Matching SGP for Pods, rejecting event, error ")
    assert '"missing"' in result.message
    assert result.patch is None


def test_fargate_no_match_is_allowed(client, answer, cluster):
    result = mutate(client, answer, pod(labels={**FARGATE_LABELS, "role": "web"}))
    assert result.allowed and result.patch is None
    assert result.message == "Fargate pod not matching any SGP"


def test_fargate_user_annotation_and_match_is_replaced(client, answer, cluster):
    obj = pod(
        labels=FARGATE_LABELS,
        annotations={"existing-key": "existing-val", "fargate.amazonaws.com/pod-sg": "sg-9"},
    )
    result = mutate(client, answer, obj)
    assert result.allowed
    assert result.patch == [{"op": "replace", "path": FARGATE_SG_PATH, "value": "sg-1,sg-2"}]


def test_fargate_user_annotation_and_no_match_is_removed(client, answer, cluster):
    obj = pod(
        labels={**FARGATE_LABELS, "role": "web"},
        annotations={"existing-key": "existing-val", "fargate.amazonaws.com/pod-sg": "sg-1,sg-2"},
    )
    result = mutate(client, answer, obj)
    assert result.allowed
    assert result.patch == [{"op": "remove", "path": FARGATE_SG_PATH}]


def test_fargate_match_adds_the_comma_joined_groups(client, answer, cluster):
    obj = pod(labels=FARGATE_LABELS, annotations={"existing-key": "existing-val"})
    result = mutate(client, answer, obj)
    assert result.allowed and result.patch_type == "JSONPatch"
    assert result.patch == [{"op": "add", "path": FARGATE_SG_PATH, "value": "sg-1,sg-2"}]


def test_fargate_match_without_annotations_adds_the_map(client, answer, cluster):
    result = mutate(client, answer, pod(labels=FARGATE_LABELS))
    assert result.patch == [
        {
            "op": "add",
            "path": "/metadata/annotations",
            "value": {"fargate.amazonaws.com/pod-sg": "sg-1,sg-2"},
        }
    ]


def test_fargate_lookup_error_is_denied(client, answer, cluster):
    obj = pod(labels=FARGATE_LABELS, service_account="missing")
    result = mutate(client, answer, obj)
    assert not result.allowed
    assert result.message.startswith("Failed to get Matching SGP for Pods, rejecting event")


def test_host_network_pod_is_allowed_without_a_patch(client, answer, cluster):
    result = mutate(client, answer, pod(labels=POD_LABELS, host_network=True))
    assert result.allowed and result.patch is None
    assert result.message == "SGP not supported on Pod running on HostNetwork"


WINDOWS_SELECTORS = [{"kubernetes.io/os": "windows"}, {"beta.kubernetes.io/os": "windows"}]


@pytest.mark.parametrize("node_selector", WINDOWS_SELECTORS, ids=["stable", "beta"])
@pytest.mark.parametrize("resources", [CPU_RESOURCES, {}], ids=["with-limits", "no-limits"])
def test_windows_pod_never_gets_pod_eni(client, answer, cluster, node_selector, resources):
    obj = pod(
        labels=POD_LABELS,
        node_selector=node_selector,
        containers=[container(resources=copy.deepcopy(resources))],
    )
    result = mutate(client, answer, obj)
    assert result.allowed and result.patch is None


@pytest.mark.parametrize("node_selector", WINDOWS_SELECTORS, ids=["stable", "beta"])
def test_windows_ipam_enabled_injects_private_ipv4(
    client, answer, cluster, settings, node_selector
):
    settings.SGPADMIN_WEBHOOK_WINDOWS_IPAM = True
    obj = pod(
        labels=POD_LABELS,
        node_selector=node_selector,
        containers=[container(resources=copy.deepcopy(CPU_RESOURCES))],
    )
    result = mutate(client, answer, obj)
    assert ops(result) == [
        {"op": "add", "path": POD_ENI_LIMITS + IPV4_TOKEN, "value": "1"},
        {"op": "add", "path": POD_ENI_REQUESTS + IPV4_TOKEN, "value": "1"},
    ]


def test_windows_ipam_enabled_without_limits_adds_whole_maps(client, answer, cluster, settings):
    settings.SGPADMIN_WEBHOOK_WINDOWS_IPAM = True
    obj = pod(node_selector={"beta.kubernetes.io/os": "windows"}, containers=[container()])
    result = mutate(client, answer, obj)
    value = {"vpc.amazonaws.com/PrivateIPv4Address": "1"}
    assert ops(result) == [
        {"op": "add", "path": POD_ENI_LIMITS, "value": value},
        {"op": "add", "path": POD_ENI_REQUESTS, "value": value},
    ]


def test_windows_ipam_disabled_is_a_no_op(client, answer, cluster, settings):
    settings.SGPADMIN_WEBHOOK_WINDOWS_IPAM = False
    obj = pod(node_selector={"beta.kubernetes.io/os": "windows"}, containers=[container()])
    result = mutate(client, answer, obj)
    assert result.allowed and result.patch is None


def test_windows_by_node_affinity_is_treated_as_linux(client, answer, cluster):
    obj = pod(labels=POD_LABELS)
    obj["spec"]["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/os", "operator": "In", "values": ["windows"]}
                        ]
                    }
                ]
            }
        }
    }
    result = mutate(client, answer, obj)
    assert result.patch_type == "JSONPatch"
