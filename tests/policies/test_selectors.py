"""Kubernetes label selector semantics and syntax (apps/policies/selectors.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.policies.selectors import (
    label_key_error,
    label_value_error,
    selector_errors,
    selector_matches,
)

from .spec_strategies import label_keys, label_values, labels, selectors

UPSTREAM_POD_LABELS = {"role": "db", "environment": "qa", "app": "test_app"}


# --- matching: examples ---------------------------------------------------------------


def test_absent_selector_matches_nothing():
    assert selector_matches(None, UPSTREAM_POD_LABELS) is False
    assert selector_matches(None, {}) is False


@pytest.mark.parametrize(
    "selector", [{}, {"matchLabels": {}}, {"matchExpressions": []}, {"matchLabels": None}]
)
def test_empty_selector_matches_everything(selector):
    assert selector_matches(selector, UPSTREAM_POD_LABELS)
    assert selector_matches(selector, {})


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"role": "db"}}, True),
        ({"matchLabels": {"role": "web"}}, False),
        ({"matchLabels": {"role": "db", "environment": "qa"}}, True),
        ({"matchLabels": {"role": "db", "environment": "dev"}}, False),
        ({"matchLabels": {"missing": ""}}, False),
        (
            {
                "matchExpressions": [
                    {"key": "environment", "operator": "In", "values": ["qa", "production"]}
                ]
            },
            True,
        ),
        (
            {"matchExpressions": [{"key": "environment", "operator": "In", "values": ["dev"]}]},
            False,
        ),
        ({"matchExpressions": [{"key": "missing", "operator": "In", "values": ["x"]}]}, False),
        (
            {"matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["dev"]}]},
            True,
        ),
        (
            {"matchExpressions": [{"key": "environment", "operator": "NotIn", "values": ["qa"]}]},
            False,
        ),
        ({"matchExpressions": [{"key": "missing", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "missing", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "missing", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist", "values": []}]}, False),
        (  # the upstream fixture selector: matchLabels AND matchExpressions
            {
                "matchLabels": {"role": "db"},
                "matchExpressions": [
                    {"key": "environment", "operator": "In", "values": ["qa", "production"]}
                ],
            },
            True,
        ),
        (
            {
                "matchLabels": {"role": "web"},
                "matchExpressions": [
                    {"key": "environment", "operator": "In", "values": ["qa", "production"]}
                ],
            },
            False,
        ),
    ],
)
def test_selector_forms_against_the_upstream_pod_labels(selector, expected):
    assert selector_matches(selector, UPSTREAM_POD_LABELS) is expected


@pytest.mark.parametrize(
    "selector",
    [
        {"matchExpressions": [{"key": "role", "operator": "In", "values": []}]},
        {"matchExpressions": [{"key": "role", "operator": "Equals", "values": ["db"]}]},
        {"matchExpressions": [{"key": "role", "operator": "Exists", "values": ["db"]}]},
        {"matchLabels": {"bad key!": "db"}},
        {"matchLabels": {"role": "not a value"}},
        "role=db",
    ],
)
def test_a_selector_kubernetes_cannot_convert_matches_nothing(selector):
    # Upstream treats a conversion error as "not matched", even where a lenient
    # reading would match these labels.
    assert selector_matches(selector, {"role": "db"}) is False


def test_unknown_fields_do_not_change_what_a_selector_matches():
    # The API server prunes fields outside the schema (e.g. the unused matchNames).
    assert selector_matches({"matchLabels": {"role": "db"}, "matchNames": ["x"]}, {"role": "db"})
    assert not selector_matches({"matchLabels": {"role": "db"}, "matchNames": ["x"]}, {})


# --- matching: properties --------------------------------------------------------------


@given(labels)
def test_property_empty_selector_matches_all_labels(pod_labels):
    assert selector_matches({}, pod_labels)


@given(label_keys, st.lists(label_values, min_size=1, max_size=3), labels)
def test_property_in_and_notin_are_complements(key, values, pod_labels):
    in_selector = {"matchExpressions": [{"key": key, "operator": "In", "values": values}]}
    notin_selector = {"matchExpressions": [{"key": key, "operator": "NotIn", "values": values}]}
    assert selector_matches(in_selector, pod_labels) != selector_matches(notin_selector, pod_labels)


@given(label_keys, labels)
def test_property_exists_and_doesnotexist_are_complements(key, pod_labels):
    exists = selector_matches(
        {"matchExpressions": [{"key": key, "operator": "Exists"}]}, pod_labels
    )
    absent = selector_matches(
        {"matchExpressions": [{"key": key, "operator": "DoesNotExist"}]}, pod_labels
    )
    assert exists == (key in pod_labels)
    assert exists != absent


@given(label_keys, label_values, labels)
def test_property_match_label_equals_in_with_one_value(key, value, pod_labels):
    by_label = selector_matches({"matchLabels": {key: value}}, pod_labels)
    by_expression = selector_matches(
        {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}, pod_labels
    )
    assert by_label == by_expression == (pod_labels.get(key) == value)


@given(selectors(), labels)
def test_property_all_terms_are_anded(selector, pod_labels):
    terms = [{"matchLabels": {k: v}} for k, v in (selector.get("matchLabels") or {}).items()]
    terms += [{"matchExpressions": [e]} for e in selector.get("matchExpressions") or []]
    assert selector_matches(selector, pod_labels) == all(
        selector_matches(term, pod_labels) for term in terms
    )


@given(labels, st.data())
def test_property_a_selector_built_from_some_of_the_labels_matches_them(pod_labels, data):
    chosen = (
        data.draw(st.lists(st.sampled_from(sorted(pod_labels)), unique=True)) if pod_labels else []
    )
    assert selector_matches({"matchLabels": {k: pod_labels[k] for k in chosen}}, pod_labels)


@given(selectors(), labels)
def test_property_labels_the_selector_does_not_mention_do_not_matter(selector, pod_labels):
    mentioned = set(selector.get("matchLabels") or {}) | {
        e["key"] for e in selector.get("matchExpressions") or []
    }
    extra = {"unrelated.example/label": "x", "zz-other": "y"}
    assert not mentioned & set(extra)
    assert selector_matches(selector, pod_labels) == selector_matches(
        selector, {**pod_labels, **extra}
    )


@given(selectors())
def test_property_generated_selectors_are_valid(selector):
    assert selector_errors(selector, "spec.podSelector") == []


# --- syntax -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "role",
        "a",
        "app.kubernetes.io/name",
        "example.com/x_y.z-1",
        "A1",
        "x" * 63,
        ("a" * 63 + ".") * 3 + "b/name",
    ],
)
def test_valid_label_keys(key):
    assert label_key_error(key) is None


@pytest.mark.parametrize(
    "key",
    [
        "",
        "-role",
        "role-",
        "has space",
        "x" * 64,
        "Example.com/name",
        "/name",
        "a/b/c",
        "a/",
        7,
        None,
        "a" * 254 + "/name",
        "app\n",
        "example.com\n/name",
    ],
)
def test_invalid_label_keys(key):
    assert label_key_error(key) is not None


@pytest.mark.parametrize("value", ["", "db", "test_app", "1.2-3", "x" * 63, "A"])
def test_valid_label_values(value):
    assert label_value_error(value) is None


@pytest.mark.parametrize(
    "value", ["-db", "db_", "x" * 64, "a b", "a/b", 1, None, True, "db\n"]
)
def test_invalid_label_values(value):
    assert label_value_error(value) is not None


def _paths(selector) -> dict[str, str]:
    return {e.path: e.message for e in selector_errors(selector, "spec.podSelector")}


@pytest.mark.parametrize(
    ("selector", "path", "fragment"),
    [
        ("role=db", "spec.podSelector", "must be an object"),
        ({"matchLabel": {}}, "spec.podSelector.matchLabel", "unknown field"),
        ({"matchLabels": ["role"]}, "spec.podSelector.matchLabels", "key: value"),
        ({"matchLabels": {"-bad": "db"}}, "spec.podSelector.matchLabels", "not a valid label key"),
        ({"matchLabels": {"role": "-bad"}}, "spec.podSelector.matchLabels.role", "label value"),
        ({"matchExpressions": {}}, "spec.podSelector.matchExpressions", "must be a list"),
        ({"matchExpressions": ["role"]}, "spec.podSelector.matchExpressions[0]", "key, operator"),
        (
            {"matchExpressions": [{"key": "role", "operator": "In"}]},
            "spec.podSelector.matchExpressions[0].values",
            "In needs at least one value",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "NotIn", "values": []}]},
            "spec.podSelector.matchExpressions[0].values",
            "NotIn needs at least one value",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "Exists", "values": ["db"]}]},
            "spec.podSelector.matchExpressions[0].values",
            "Exists takes no values",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "DoesNotExist", "values": ["x"]}]},
            "spec.podSelector.matchExpressions[0].values",
            "DoesNotExist takes no values",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "Equals", "values": ["db"]}]},
            "spec.podSelector.matchExpressions[0].operator",
            "is not one of In, NotIn, Exists, DoesNotExist",
        ),
        (
            {"matchExpressions": [{"operator": "Exists"}]},
            "spec.podSelector.matchExpressions[0].key",
            "non-empty string",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "In", "values": "db"}]},
            "spec.podSelector.matchExpressions[0].values",
            "must be a list of strings",
        ),
        (
            {
                "matchExpressions": [
                    {"key": "a", "operator": "Exists"},
                    {"key": "b", "operator": "In", "values": ["ok", "no way"]},
                ]
            },
            "spec.podSelector.matchExpressions[1].values[1]",
            "not a valid label value",
        ),
        (
            {"matchExpressions": [{"key": "role", "operator": "Exists", "value": "x"}]},
            "spec.podSelector.matchExpressions[0].value",
            "unknown field",
        ),
    ],
)
def test_each_selector_error_names_its_field(selector, path, fragment):
    errors = _paths(selector)
    assert path in errors, errors
    assert fragment in errors[path]


def test_one_problem_gives_one_error():
    errors = selector_errors(
        {"matchExpressions": [{"key": "role", "operator": "In", "values": "db"}]}, "s"
    )
    assert [e.path for e in errors] == ["s.matchExpressions[0].values"]
