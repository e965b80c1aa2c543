"""The policy editor's structured fields <-> the CRD spec, and the SVG chart's escaping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.core.generic.charts import Series, step_chart
from apps.core.generic.diff import diff_rows
from apps.policies.forms import (
    SpecInputError,
    field_for_path,
    fields_from_spec,
    parse_expressions,
    spec_from_fields,
    spec_from_yaml,
)

SPEC = {
    "podSelector": {
        "matchLabels": {"app": "web", "tier": "front"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "stage"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    },
    "serviceAccountSelector": {},
    "securityGroups": {"groupIds": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]},
}


def test_fields_round_trip_to_the_same_spec():
    assert spec_from_fields(fields_from_spec(SPEC)) == SPEC


def test_a_disabled_selector_is_absent_and_an_empty_one_selects_all():
    fields = {
        "pod_enabled": True,
        "pod_labels": "",
        "sa_enabled": False,
        "sa_labels": "a=b",
        "group_ids": "sg-0123456789abcdef0, sg-0fedcba9876543210",
    }
    assert spec_from_fields(fields) == {
        "podSelector": {},
        "securityGroups": {"groupIds": ["sg-0123456789abcdef0", "sg-0fedcba9876543210"]},
    }


@pytest.mark.parametrize(
    "line, expected",
    [
        ("env In (a, b)", {"key": "env", "operator": "In", "values": ["a", "b"]}),
        ("env NotIn a", {"key": "env", "operator": "NotIn", "values": ["a"]}),
        ("env Exists", {"key": "env", "operator": "Exists"}),
    ],
)
def test_expression_lines(line, expected):
    assert parse_expressions(line, "f") == [expected]


@pytest.mark.parametrize("line", ["env", "env Equals a"])
def test_unreadable_expression_lines_name_their_field(line):
    with pytest.raises(SpecInputError) as error:
        parse_expressions(line, "pod_expressions")
    assert error.value.field == "pod_expressions"


def test_yaml_errors_are_input_errors_of_the_yaml_field():
    with pytest.raises(SpecInputError) as error:
        spec_from_yaml("podSelector: [")
    assert error.value.field == "spec_yaml"
    assert spec_from_yaml("") == {}


def test_yaml_nested_too_deeply_is_an_input_error_not_a_crash():
    with pytest.raises(SpecInputError, match="nested too deeply") as error:
        spec_from_yaml("[" * 5000 + "]" * 5000)
    assert error.value.field == "spec_yaml"


@pytest.mark.parametrize(
    "path, mode, field",
    [
        ("name", "fields", "name"),
        ("spec.podSelector.matchLabels", "fields", "pod_labels"),
        ("spec.podSelector.matchExpressions[0].values", "fields", "pod_expressions"),
        ("spec.serviceAccountSelector", "fields", "sa_labels"),
        ("spec.securityGroups.groupIds[1]", "fields", "group_ids"),
        ("spec", "fields", None),
        ("spec.securityGroups.groupIds", "yaml", "spec_yaml"),
        ("namespace", "yaml", "namespace"),
    ],
)
def test_validation_paths_map_to_form_fields(path, mode, field):
    assert field_for_path(path, mode) == field


def test_chart_escapes_labels_and_draws_steps():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=1)
    svg = step_chart(
        [Series("<script>", "#000", [(start, 0), (start + timedelta(minutes=30), 2), (end, 2)])],
        start,
        end,
        4,
        title='a "title"',
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    points = svg.split('points="')[1].split('"')[0].split()
    assert len(points) == 5  # three values, two vertical steps between them


def test_diff_rows_mark_changed_and_missing_keys():
    rows = diff_rows({"a": 1, "b": [1]}, {"a": 1, "b": [2], "c": None})
    assert [(r.key, r.changed) for r in rows] == [("a", False), ("b", True), ("c", True)]
    assert [r.key for r in diff_rows({"a": 1}, {"a": 1, "b": 2}, changed_only=True)] == ["b"]


def test_specs_the_fields_cannot_show_are_edited_as_yaml(world, editor):
    from django.urls import reverse

    from apps.policies.forms import fields_can_represent
    from tests.factories import PolicyFactory

    odd = {
        "podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
        "securityGroups": {"groupIds": ["sg-0123456789abcdef0"]},
    }
    assert fields_can_represent(SPEC) and not fields_can_represent(odd)
    policy = PolicyFactory(cluster=world.alpha, name="odd", spec=odd)
    page = editor.get(reverse("policies:policy_edit", args=[policy.pk])).content.decode()
    assert 'name="edit_mode" value="yaml"' in page and 'name="spec_yaml"' in page
    refused = editor.post(
        reverse("policies:policy_spec_editor"),
        {
            "edit_mode": "yaml",
            "switch_to": "fields",
            "spec_yaml": "podSelector:\n  matchExpressions:\n"
            "  - {key: a, operator: Exists, values: [x]}\n"
            "securityGroups: {groupIds: [sg-0123456789abcdef0]}\n",
        },
    )
    assert "keep editing it as YAML" in refused.content.decode()
