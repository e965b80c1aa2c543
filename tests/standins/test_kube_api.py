"""The Kubernetes stand-in through the official client: metadata, writes, patches, status
subresources, deletion, custom objects, list with selectors and pages, discovery."""

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

SGP = ("vpcresources.k8s.aws", "v1beta1", "securitygrouppolicies")
CNINODE = ("vpcresources.k8s.aws", "v1alpha1", "cninodes")


@pytest.fixture
def core(kube_api_client):
    return client.CoreV1Api(kube_api_client)


@pytest.fixture
def custom(kube_api_client):
    return client.CustomObjectsApi(kube_api_client)


def pod(name, labels=None, node=None, namespace="default"):
    spec = {"containers": [{"name": "app", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": spec,
    }


def test_create_fills_uid_resource_version_and_creation_timestamp(core):
    created = core.create_namespaced_pod("default", pod("p1"))
    assert len(created.metadata.uid) == 36
    assert int(created.metadata.resource_version) > 0
    assert created.metadata.creation_timestamp is not None
    assert created.metadata.namespace == "default"
    assert created.status.phase == "Pending"
    fetched = core.read_namespaced_pod("p1", "default")
    assert fetched.metadata.uid == created.metadata.uid


def test_namespace_comes_from_the_url(core):
    body = pod("p1")
    del body["metadata"]["namespace"]
    core.create_namespace({"metadata": {"name": "team-a"}})
    assert core.create_namespaced_pod("team-a", body).metadata.namespace == "team-a"


def test_resource_versions_grow_with_every_write(core):
    first = core.create_namespaced_pod("default", pod("p1"))
    second = core.create_namespaced_pod("default", pod("p2"))
    patched = core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "b"}}})
    versions = [int(o.metadata.resource_version) for o in (first, second, patched)]
    assert versions == sorted(versions) and len(set(versions)) == 3


def test_a_patch_that_changes_nothing_keeps_the_version(core):
    created = core.create_namespaced_pod("default", pod("p1", labels={"a": "b"}))
    same = core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "b"}}})
    assert same.metadata.resource_version == created.metadata.resource_version


def test_generate_name_makes_a_name(core):
    event = core.create_namespaced_event(
        "default",
        {
            "metadata": {"generateName": "p1."},
            "involvedObject": {"kind": "Pod", "name": "p1"},
            "reason": "SecurityGroupRequested",
            "message": "m",
            "type": "Normal",
        },
    )
    assert event.metadata.name.startswith("p1.") and len(event.metadata.name) == 8


def test_creating_an_existing_name_is_409(core):
    core.create_namespaced_pod("default", pod("p1"))
    with pytest.raises(ApiException) as excinfo:
        core.create_namespaced_pod("default", pod("p1"))
    assert excinfo.value.status == 409


def test_reading_a_missing_object_is_404(core):
    with pytest.raises(ApiException) as excinfo:
        core.read_namespaced_pod("nope", "default")
    assert excinfo.value.status == 404


def test_initial_namespaces_exist_and_namespaces_are_cluster_scoped(core):
    names = [n.metadata.name for n in core.list_namespace().items]
    assert {"default", "kube-system"} <= set(names)
    core.create_namespace({"metadata": {"name": "team-a"}})
    assert core.read_namespace("team-a").metadata.namespace is None


def test_strategic_merge_patch_of_a_pod_annotation(core):
    core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {"x": "1"}}})
    patched = core.patch_namespaced_pod(
        "p1", "default", {"metadata": {"annotations": {"vpc.amazonaws.com/pod-eni": "[]"}}}
    )
    assert patched.metadata.annotations == {"x": "1", "vpc.amazonaws.com/pod-eni": "[]"}
    removed = core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {"x": None}}})
    assert removed.metadata.annotations == {"vpc.amazonaws.com/pod-eni": "[]"}


def test_json_merge_patch_of_a_pod_annotation(core):
    core.create_namespaced_pod("default", pod("p1"))
    patched = core.patch_namespaced_pod(
        "p1",
        "default",
        {"metadata": {"annotations": {"a": "b"}}},
        _content_type="application/merge-patch+json",
    )
    assert patched.metadata.annotations == {"a": "b"}


def test_json_patch_with_a_failing_test_op_is_422(core):
    created = core.create_namespaced_pod("default", pod("p1"))
    guarded = [
        {"op": "test", "path": "/metadata/uid", "value": created.metadata.uid},
        {"op": "add", "path": "/metadata/annotations", "value": {"a": "b"}},
    ]
    assert core.patch_namespaced_pod("p1", "default", guarded).metadata.annotations == {"a": "b"}
    guarded[0]["value"] = "another-uid"
    with pytest.raises(ApiException) as excinfo:
        core.patch_namespaced_pod("p1", "default", guarded)
    assert excinfo.value.status == 422


def test_a_patch_with_a_stale_resource_version_is_409(core):
    created = core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "1"}}})
    with pytest.raises(ApiException) as excinfo:
        core.patch_namespaced_pod(
            "p1",
            "default",
            {
                "metadata": {
                    "resourceVersion": created.metadata.resource_version,
                    "labels": {"a": "2"},
                }
            },
        )
    assert excinfo.value.status == 409


def test_replace_with_a_stale_resource_version_is_409(core):
    created = core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "1"}}})
    with pytest.raises(ApiException) as excinfo:
        core.replace_namespaced_pod("p1", "default", created)
    assert excinfo.value.status == 409


def test_replace_with_the_current_version_replaces(core):
    core.create_namespaced_pod("default", pod("p1"))
    current = core.read_namespaced_pod("p1", "default")
    current.metadata.labels = {"replaced": "yes"}
    assert core.replace_namespaced_pod("p1", "default", current).metadata.labels == {
        "replaced": "yes"
    }


def test_patch_node_status_sets_capacity_and_merges_conditions(core):
    core.create_node(
        {
            "metadata": {"name": "n1"},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "MemoryPressure", "status": "False"},
                ]
            },
        }
    )
    node = core.patch_node_status(
        "n1",
        {
            "status": {
                "capacity": {"vpc.amazonaws.com/pod-eni": "9"},
                "conditions": [{"type": "Ready", "status": "False"}],
            }
        },
    )
    assert node.status.capacity == {"vpc.amazonaws.com/pod-eni": "9"}
    assert {c.type: c.status for c in node.status.conditions} == {
        "Ready": "False",
        "MemoryPressure": "False",
    }


def test_status_subresource_separates_status_from_the_rest(core):
    core.create_node({"metadata": {"name": "n1"}})
    core.patch_node(
        "n1", {"metadata": {"labels": {"a": "b"}}, "status": {"capacity": {"cpu": "4"}}}
    )
    core.patch_node_status(
        "n1", {"metadata": {"labels": {"c": "d"}}, "status": {"allocatable": {"cpu": "3"}}}
    )
    node = core.read_node("n1")
    assert node.metadata.labels == {"a": "b"}
    assert node.status.capacity is None and node.status.allocatable == {"cpu": "3"}


def test_pod_status_is_written_through_its_subresource(core):
    core.create_namespaced_pod("default", pod("p1"))
    core.patch_namespaced_pod_status("p1", "default", {"status": {"phase": "Succeeded"}})
    assert core.read_namespaced_pod("p1", "default").status.phase == "Succeeded"


def test_binding_assigns_the_node(core):
    core.create_namespaced_pod("default", pod("p1"))
    core.create_namespaced_pod_binding(
        "p1", "default", {"metadata": {"name": "p1"}, "target": {"kind": "Node", "name": "n1"}}
    )
    assert core.read_namespaced_pod("p1", "default").spec.node_name == "n1"


def test_delete_removes_at_once_without_finalizers(core):
    core.create_namespaced_pod("default", pod("p1"))
    core.delete_namespaced_pod("p1", "default")
    assert core.list_namespaced_pod("default").items == []


def test_delete_with_finalizers_waits_for_their_removal(core):
    body = pod("p1")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    core.create_namespaced_pod("default", body)
    core.delete_namespaced_pod("p1", "default")
    held = core.read_namespaced_pod("p1", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_pod("p1", "default", {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as excinfo:
        core.read_namespaced_pod("p1", "default")
    assert excinfo.value.status == 404


def test_delete_with_a_wrong_uid_precondition_is_409(core):
    core.create_namespaced_pod("default", pod("p1"))
    with pytest.raises(ApiException) as excinfo:
        core.delete_namespaced_pod("p1", "default", body={"preconditions": {"uid": "other"}})
    assert excinfo.value.status == 409


def test_security_group_policy_crud(custom):
    group, version, plural = SGP
    custom.create_namespaced_custom_object(
        group,
        version,
        "default",
        plural,
        {
            "apiVersion": "vpcresources.k8s.aws/v1beta1",
            "kind": "SecurityGroupPolicy",
            "metadata": {"name": "db"},
            "spec": {
                "podSelector": {"matchLabels": {"role": "db"}},
                "securityGroups": {"groupIds": ["sg-1"]},
            },
        },
    )
    fetched = custom.get_namespaced_custom_object(group, version, "default", plural, "db")
    assert fetched["metadata"]["uid"] and fetched["metadata"]["generation"] == 1
    patched = custom.patch_namespaced_custom_object(
        group,
        version,
        "default",
        plural,
        "db",
        {"spec": {"securityGroups": {"groupIds": ["sg-2", "sg-3"]}}},
    )
    assert patched["spec"]["securityGroups"]["groupIds"] == ["sg-2", "sg-3"]
    assert patched["spec"]["podSelector"] == {"matchLabels": {"role": "db"}}
    assert patched["metadata"]["generation"] == 2
    everywhere = custom.list_cluster_custom_object(group, version, plural)["items"]
    assert [o["metadata"]["name"] for o in everywhere] == ["db"]
    custom.delete_namespaced_custom_object(group, version, "default", plural, "db")
    assert custom.list_namespaced_custom_object(group, version, "default", plural)["items"] == []


def test_strategic_merge_patch_of_a_custom_resource_is_415(custom):
    group, version, plural = SGP
    custom.create_namespaced_custom_object(
        group, version, "default", plural, {"metadata": {"name": "db"}, "spec": {}}
    )
    with pytest.raises(ApiException) as excinfo:
        custom.patch_namespaced_custom_object(
            group,
            version,
            "default",
            plural,
            "db",
            {"spec": {"x": 1}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert excinfo.value.status == 415


def test_cninode_is_cluster_scoped(custom):
    group, version, plural = CNINODE
    custom.create_cluster_custom_object(
        group,
        version,
        plural,
        {"metadata": {"name": "n1"}, "spec": {"features": [{"name": "SecurityGroupsForPods"}]}},
    )
    node = custom.get_cluster_custom_object(group, version, plural, "n1")
    assert "namespace" not in node["metadata"]
    assert node["spec"]["features"] == [{"name": "SecurityGroupsForPods"}]


def test_list_honours_label_selectors(core):
    core.create_namespaced_pod("default", pod("a", labels={"role": "db", "tier": "1"}))
    core.create_namespaced_pod("default", pod("b", labels={"role": "web"}))
    core.create_namespaced_pod("default", pod("c"))

    def names(selector):
        return [
            p.metadata.name
            for p in core.list_namespaced_pod("default", label_selector=selector).items
        ]

    assert names("role=db") == ["a"]
    assert names("role!=db") == ["b", "c"]
    assert names("role in (db,web)") == ["a", "b"]
    assert names("role notin (web),tier") == ["a"]
    assert names("!role") == ["c"]


def test_list_honours_field_selectors_across_namespaces(core):
    core.create_namespace({"metadata": {"name": "team-a"}})
    core.create_namespaced_pod("default", pod("a", node="n1"))
    core.create_namespaced_pod("team-a", pod("b", node="n1", namespace="team-a"))
    core.create_namespaced_pod("default", pod("c", node="n2"))
    on_n1 = core.list_pod_for_all_namespaces(field_selector="spec.nodeName=n1").items
    assert sorted(p.metadata.name for p in on_n1) == ["a", "b"]


def test_list_pages_with_limit_and_continue(core):
    for index in range(5):
        core.create_namespaced_pod("default", pod(f"p{index}"))
    first = core.list_namespaced_pod("default", limit=2)
    assert [p.metadata.name for p in first.items] == ["p0", "p1"]
    rest = core.list_namespaced_pod("default", limit=10, _continue=first.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["p2", "p3", "p4"]
    assert rest.metadata._continue is None


def test_a_bad_label_selector_is_400(core):
    with pytest.raises(ApiException) as excinfo:
        core.list_namespaced_pod("default", label_selector="role in db")
    assert excinfo.value.status == 400


def test_discovery_lists_the_vpc_resources_group(kube_api_client):
    groups = client.ApisApi(kube_api_client).get_api_versions().groups
    assert "vpcresources.k8s.aws" in {g.name for g in groups}
    resources = (
        client.CustomObjectsApi(kube_api_client)
        .get_api_resources("vpcresources.k8s.aws", "v1beta1")
        .resources
    )
    assert [(r.name, r.kind, r.namespaced) for r in resources] == [
        ("securitygrouppolicies", "SecurityGroupPolicy", True)
    ]


def test_injected_failure_answers_the_next_matching_requests_without_effect(kube, core):
    core.create_namespaced_pod("default", pod("p1"))
    kube.inject_failure("PATCH", r"/pods/p1$", status=409, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as excinfo:
            core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "b"}}})
        assert excinfo.value.status == 409
    assert core.read_namespaced_pod("p1", "default").metadata.labels == {}
    core.patch_namespaced_pod("p1", "default", {"metadata": {"labels": {"a": "b"}}})
    assert core.read_namespaced_pod("p1", "default").metadata.labels == {"a": "b"}


def test_injected_failures_can_be_cleared(kube, core):
    kube.inject_failure("GET", "/pods", status=500, count=5)
    kube.clear_failures()
    assert core.list_namespaced_pod("default").items == []


def test_a_bad_injected_failure_is_a_400(kube):
    import urllib.error

    from standins.kubernetes.server import control_request

    with pytest.raises(urllib.error.HTTPError) as excinfo:
        control_request(kube.url, "POST", "failures", {"method": "GET", "pathh": "x"})
    assert excinfo.value.code == 400


def test_concurrent_guarded_patches_let_exactly_one_win(kube):
    from concurrent.futures import ThreadPoolExecutor

    core = client.CoreV1Api(kube.api_client())
    version = core.create_namespaced_pod("default", pod("p1")).metadata.resource_version

    def guarded_patch(index):
        api = client.CoreV1Api(kube.api_client())
        try:
            api.patch_namespaced_pod(
                "p1",
                "default",
                {"metadata": {"resourceVersion": version, "labels": {"writer": str(index)}}},
            )
            return "ok"
        except ApiException as exc:
            return exc.status
        finally:
            api.api_client.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(guarded_patch, range(6)))
    assert outcomes.count("ok") == 1 and outcomes.count(409) == 5
    core.api_client.close()
