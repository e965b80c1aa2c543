"""The JSON Patch diff: applying it (with the independent ``jsonpatch`` library) to the
old document gives the new one, and its operations are upstream's kinds of operation."""

from __future__ import annotations

import copy

import jsonpatch
from hypothesis import given
from hypothesis import strategies as st

from apps.webhooks.json_patch import diff, escape_pointer_token, json_pointer

keys = st.sampled_from(["a", "b", "a/b", "x~y", "vpc.amazonaws.com/pod-eni", ""])
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
documents = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(keys, documents, max_size=4), st.dictionaries(keys, documents, max_size=4))
def test_applying_the_diff_to_the_old_document_gives_the_new_one(old, new):
    before = copy.deepcopy(old)
    patch = diff(old, new)
    assert jsonpatch.apply_patch(old, patch) == new
    assert old == before  # diff does not modify its input


@given(st.dictionaries(keys, documents, max_size=4))
def test_a_document_has_no_diff_with_itself(doc):
    assert diff(doc, copy.deepcopy(doc)) == []


def test_a_missing_key_is_added_whole():
    assert diff({"r": {}}, {"r": {"limits": {"x": "1"}}}) == [
        {"op": "add", "path": "/r/limits", "value": {"x": "1"}}
    ]


def test_a_present_map_gets_the_key_added():
    assert diff({"limits": {"cpu": "1"}}, {"limits": {"cpu": "1", "a/b": "1"}}) == [
        {"op": "add", "path": "/limits/a~1b", "value": "1"}
    ]


def test_changed_and_removed_values():
    assert diff({"a": "1", "b": "2"}, {"a": "3"}) == [
        {"op": "replace", "path": "/a", "value": "3"},
        {"op": "remove", "path": "/b"},
    ]


def test_lists_of_objects_are_compared_element_by_element():
    old = {"c": [{"n": "a"}, {"n": "b"}]}
    new = {"c": [{"n": "a", "r": {}}, {"n": "b"}]}
    assert diff(old, new) == [{"op": "add", "path": "/c/0/r", "value": {}}]


def test_true_and_one_are_different_values():
    assert diff({"a": 1}, {"a": True}) == [{"op": "replace", "path": "/a", "value": True}]


def test_pointer_escaping_follows_rfc_6901():
    assert escape_pointer_token("a~/b") == "a~0~1b"
    assert json_pointer("metadata", "annotations", "fargate.amazonaws.com/pod-sg", 0) == (
        "/metadata/annotations/fargate.amazonaws.com~1pod-sg/0"
    )
