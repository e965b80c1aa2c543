"""The mutating webhook's pure decision: classification, patch building, edge cases."""

from __future__ import annotations

import copy

import jsonpatch
import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.webhooks.admission import AdmissionRequest
from apps.webhooks.mutation import Lookup, PodKind, classify_pod, mutate_pod
from apps.webhooks.pods import BadObject

from .factories import container, pod

POD_ENI = "vpc.amazonaws.com/pod-eni"


def request(obj, operation="CREATE", namespace="default"):
    return AdmissionRequest(
        uid="u-1",
        operation=operation,
        namespace=namespace,
        username="",
        object=obj,
        old_object=None,
    )


def matcher(groups=("sg-1",), error=None, calls=None):
    def match(namespace, labels, service_account):
        if calls is not None:
            calls.append((namespace, dict(labels), service_account))
        return Lookup(group_ids=tuple(groups), error=error)

    return match


@pytest.mark.parametrize(
    ("obj", "kind"),
    [
        (
            pod(host_network=True, labels={"eks.amazonaws.com/fargate-profile": "p"}),
            PodKind.HOST_NETWORK,
        ),
        (
            pod(
                labels={"eks.amazonaws.com/fargate-profile": ""},
                node_selector={"kubernetes.io/os": "windows"},
            ),
            PodKind.FARGATE,
        ),
        (pod(node_selector={"kubernetes.io/os": "windows"}), PodKind.WINDOWS),
        (pod(node_selector={"beta.kubernetes.io/os": "windows"}), PodKind.WINDOWS),
        (pod(node_selector={"kubernetes.io/os": "linux"}), PodKind.LINUX),
        (pod(), PodKind.LINUX),
    ],
)
def test_classification_order_is_host_network_fargate_windows_linux(obj, kind):
    assert classify_pod(obj) is kind


def test_namespace_and_service_account_come_from_the_pod_or_the_request():
    calls = []
    obj = pod(namespace=None, service_account="api")
    mutate_pod(request(obj, namespace="payments"), matcher(calls=calls))
    assert calls == [("payments", {}, "api")]
    obj = pod(namespace="orders")
    del obj["spec"]["serviceAccountName"]
    mutate_pod(request(obj, namespace="orders"), matcher(calls=calls))
    assert calls[-1] == ("orders", {}, "default")


def test_a_pod_without_namespace_gets_it_in_the_patch_as_upstream_serialises_it():
    obj = pod(namespace=None)
    decision = mutate_pod(request(obj, namespace="payments"), matcher())
    assert {"op": "add", "path": "/metadata/namespace", "value": "payments"} in decision.patch


def test_a_container_without_resources_gets_the_whole_resources_object():
    obj = pod(containers=[{"name": "app", "image": "nginx"}])
    decision = mutate_pod(request(obj), matcher())
    value = {POD_ENI: "1"}
    assert decision.patch == [
        {
            "op": "add",
            "path": "/spec/containers/0/resources",
            "value": {"limits": value, "requests": value},
        }
    ]


def test_an_existing_pod_eni_value_is_overwritten_with_one():
    obj = pod(
        containers=[container(resources={"limits": {POD_ENI: "2"}, "requests": {POD_ENI: "1"}})]
    )
    decision = mutate_pod(request(obj), matcher())
    assert decision.patch == [
        {
            "op": "replace",
            "path": "/spec/containers/0/resources/limits/vpc.amazonaws.com~1pod-eni",
            "value": "1",
        }
    ]


def test_a_pod_that_already_has_pod_eni_one_needs_no_patch():
    both = {"limits": {POD_ENI: "1"}, "requests": {POD_ENI: "1"}}
    decision = mutate_pod(request(pod(containers=[container(resources=both)])), matcher())
    assert decision.allowed and decision.patch == []


def test_a_user_pod_eni_request_without_a_match_is_left_alone():
    both = {"limits": {POD_ENI: "1"}, "requests": {POD_ENI: "1"}}
    decision = mutate_pod(request(pod(containers=[container(resources=both)])), matcher(groups=()))
    assert decision.allowed and decision.patch == []


def test_removing_the_only_annotation_removes_the_map_as_upstream_serialises_it():
    obj = pod(
        labels={"eks.amazonaws.com/fargate-profile": "p"},
        annotations={"fargate.amazonaws.com/pod-sg": "sg-1"},
    )
    decision = mutate_pod(request(obj), matcher(groups=()))
    assert decision.patch == [{"op": "remove", "path": "/metadata/annotations"}]


def test_only_create_is_mutated():
    calls = []
    decision = mutate_pod(request(pod(), operation="UPDATE"), matcher(calls=calls))
    assert decision.allowed and decision.patch == [] and calls == []
    deletion = mutate_pod(request(None, operation="DELETE"), matcher(calls=calls))
    assert deletion.allowed and deletion.patch == [] and calls == []


def test_host_network_and_windows_pods_are_not_looked_up():
    calls = []
    mutate_pod(request(pod(host_network=True)), matcher(calls=calls))
    mutate_pod(request(pod(node_selector={"kubernetes.io/os": "windows"})), matcher(calls=calls))
    assert calls == []


@pytest.mark.parametrize(
    ("obj", "field"),
    [
        ({"metadata": [], "spec": {}}, "metadata"),
        ({"metadata": {"labels": {"a": 1}}, "spec": {"containers": [{}]}}, "metadata.labels"),
        ({"spec": {"containers": []}}, "spec.containers"),
        ({"spec": {"containers": "nginx"}}, "spec.containers"),
        ({"spec": {"containers": [[]]}}, "spec.containers[0]"),
        (
            {"spec": {"containers": [{"resources": {"limits": []}}]}},
            "spec.containers[0].resources.limits",
        ),
        ({"spec": {"hostNetwork": "yes", "containers": [{}]}}, "spec.hostNetwork"),
    ],
)
def test_a_malformed_pod_is_refused_naming_the_field(obj, field):
    with pytest.raises(BadObject) as error:
        mutate_pod(request(obj), matcher())
    assert error.value.message.startswith(field)


label_values = st.text(alphabet="abcxyz-./~", max_size=6)
resource_maps = st.none() | st.dictionaries(
    st.sampled_from(["cpu", "memory", POD_ENI]), st.sampled_from(["1", "2", "100m"]), max_size=3
)


@given(
    limits=resource_maps,
    requests=resource_maps,
    extra_containers=st.integers(0, 2),
    annotations=st.none() | st.dictionaries(label_values, label_values, max_size=3),
)
def test_the_patch_changes_exactly_the_first_containers_pod_eni(
    limits, requests, extra_containers, annotations
):
    resources = {}
    if limits is not None:
        resources["limits"] = limits
    if requests is not None:
        resources["requests"] = requests
    containers = [container("c0", resources)] + [
        container(f"c{i}") for i in range(1, extra_containers + 1)
    ]
    obj = pod(containers=containers, annotations=annotations)
    original = copy.deepcopy(obj)
    decision = mutate_pod(request(obj), matcher())
    assert obj == original
    patched = jsonpatch.apply_patch(obj, decision.patch)
    expected = copy.deepcopy(original)
    first = expected["spec"]["containers"][0]["resources"]
    first["limits"] = {**(limits or {}), POD_ENI: "1"}
    first["requests"] = {**(requests or {}), POD_ENI: "1"}
    assert patched == expected
