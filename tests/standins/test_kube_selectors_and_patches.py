"""Selectors and patch semantics of the Kubernetes stand-in (pure functions)."""

import pytest

from standins.kubernetes.patches import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    PatchError,
    apply_patch,
)
from standins.kubernetes.selectors import SelectorError, field_selector, label_selector


def labelled(**labels):
    return {"metadata": {"labels": labels}}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("a=1", {"a": "1"}, True),
        ("a==1", {"a": "2"}, False),
        ("a!=1", {}, True),
        ("a in (1, 2)", {"a": "2"}, True),
        ("a notin (1,2)", {"a": "3"}, True),
        ("a notin (1,2)", {}, True),
        ("a", {"a": ""}, True),
        ("!a", {"a": "x"}, False),
        ("a=1,b in (x,y),!c", {"a": "1", "b": "y"}, True),
        ("a=1,b in (x,y),!c", {"a": "1", "b": "y", "c": "z"}, False),
    ],
)
def test_label_selector(selector, labels, expected):
    assert label_selector(selector)(labelled(**labels)) is expected


@pytest.mark.parametrize("selector", ["a in 1", "a in (1", "=1"])
def test_malformed_label_selector_is_refused(selector):
    with pytest.raises(SelectorError):
        label_selector(selector)


def test_field_selector_on_nested_and_missing_fields():
    pod = {"metadata": {"name": "p"}, "spec": {"nodeName": "n1"}, "status": {"phase": "Running"}}
    assert field_selector("spec.nodeName=n1,status.phase!=Failed")(pod)
    assert not field_selector("metadata.name=q")(pod)
    assert field_selector("spec.missing=")(pod)


def test_merge_patch_removes_keys_with_null_and_replaces_lists():
    current = {"metadata": {"annotations": {"a": "1", "b": "2"}}, "spec": {"l": [1, 2]}}
    patched = apply_patch(
        current,
        {"metadata": {"annotations": {"a": None}}, "spec": {"l": [3]}},
        MERGE_PATCH,
        builtin_kind=False,
    )
    assert patched == {"metadata": {"annotations": {"b": "2"}}, "spec": {"l": [3]}}
    assert current["metadata"]["annotations"] == {"a": "1", "b": "2"}  # untouched


def test_strategic_merge_patch_merges_lists_by_their_keys():
    current = {
        "spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]},
        "metadata": {"finalizers": ["x"]},
    }
    patched = apply_patch(
        current,
        {"spec": {"containers": [{"name": "b", "image": "2"}]}, "metadata": {"finalizers": ["y"]}},
        STRATEGIC_MERGE_PATCH,
        builtin_kind=True,
    )
    assert patched["spec"]["containers"] == [
        {"name": "a", "image": "1"},
        {"name": "b", "image": "2"},
    ]
    assert patched["metadata"]["finalizers"] == ["x", "y"]


def test_strategic_merge_patch_refuses_custom_resources_and_directives():
    with pytest.raises(PatchError) as excinfo:
        apply_patch({}, {"spec": {}}, STRATEGIC_MERGE_PATCH, builtin_kind=False)
    assert excinfo.value.status == 415
    with pytest.raises(PatchError) as excinfo:
        apply_patch({}, {"spec": {"$patch": "replace"}}, STRATEGIC_MERGE_PATCH, builtin_kind=True)
    assert excinfo.value.status == 422


def test_json_patch_and_its_failures():
    current = {"metadata": {"uid": "u1"}}
    ops = [
        {"op": "test", "path": "/metadata/uid", "value": "u1"},
        {"op": "add", "path": "/metadata/labels", "value": {"a": "b"}},
    ]
    assert apply_patch(current, ops, JSON_PATCH, builtin_kind=True)["metadata"]["labels"] == {
        "a": "b"
    }
    ops[0]["value"] = "u2"
    with pytest.raises(PatchError) as excinfo:
        apply_patch(current, ops, JSON_PATCH, builtin_kind=True)
    assert excinfo.value.status == 422
    with pytest.raises(PatchError) as excinfo:
        apply_patch(current, {"not": "a list"}, JSON_PATCH, builtin_kind=True)
    assert excinfo.value.status == 400


def test_server_side_apply_is_unsupported():
    with pytest.raises(PatchError) as excinfo:
        apply_patch({}, {}, "application/apply-patch+yaml", builtin_kind=True)
    assert excinfo.value.status == 415
