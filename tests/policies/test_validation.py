"""Policy validation: every rule, each with the exact field path (apps/policies/validation.py)."""

from __future__ import annotations

import pytest
from hypothesis import given

from apps.policies.validation import validate_policy, validate_spec

from .spec_strategies import valid_specs

GOOD_SPEC = {
    "podSelector": {"matchLabels": {"role": "db"}},
    "securityGroups": {"groupIds": ["sg-0123abcd"]},
}


def ids(count: int) -> list[str]:
    return [f"sg-{n:08x}" for n in range(1, count + 1)]


def with_groups(groups) -> dict:
    return {"podSelector": {}, "securityGroups": {"groupIds": groups}}


def test_a_good_policy_has_no_errors_and_no_warnings():
    report = validate_policy("payments", "db-access", GOOD_SPEC)
    assert report.ok
    assert report.errors == {}
    assert report.warnings == {}


@given(valid_specs())
def test_property_generated_valid_specs_pass(spec):
    report = validate_spec(spec)
    assert report.ok, report.errors


@pytest.mark.parametrize("field", ["namespace", "name"])
@pytest.mark.parametrize(
    "value",
    ["", "UPPER", "under_score", "dot.ted", "-lead", "trail-", "x" * 64, None, 5, "web\n"],
)
def test_namespace_and_name_must_be_dns_labels(field, value):
    args = {"namespace": "payments", "name": "db-access", field: value}
    report = validate_policy(args["namespace"], args["name"], GOOD_SPEC)
    assert list(report.errors) == [field]
    assert "DNS-1123 label" in report.errors[field][0]


@pytest.mark.parametrize("value", ["a", "0", "a-b", "x" * 63, "9lives"])
def test_dns_labels_accepted(value):
    assert validate_policy(value, value, GOOD_SPEC).ok


def test_spec_must_be_an_object():
    assert validate_spec(["podSelector"]).errors == {"spec": ["spec must be an object"]}


def test_unknown_spec_field():
    report = validate_spec({**GOOD_SPEC, "podSelectors": {}})
    assert list(report.errors) == ["spec.podSelectors"]
    assert "unknown field" in report.errors["spec.podSelectors"][0]


@pytest.mark.parametrize("selectors", [{}, {"podSelector": None, "serviceAccountSelector": None}])
def test_at_least_one_selector(selectors):
    report = validate_spec({**selectors, "securityGroups": {"groupIds": ["sg-0123abcd"]}})
    assert list(report.errors) == ["spec"]
    assert "podSelector or a serviceAccountSelector" in report.errors["spec"][0]


@pytest.mark.parametrize(
    "selectors",
    [
        {"podSelector": {}},
        {"serviceAccountSelector": {}},
        {"podSelector": {"matchLabels": {"a": "b"}}, "serviceAccountSelector": {}},
    ],
)
def test_either_selector_or_both_is_enough(selectors):
    assert validate_spec({**selectors, "securityGroups": {"groupIds": ["sg-0123abcd"]}}).ok


@pytest.mark.parametrize("where", ["podSelector", "serviceAccountSelector"])
@pytest.mark.parametrize(
    ("selector", "subpath", "fragment"),
    [
        ({"matchLabels": {"bad key": "x"}}, ".matchLabels", "not a valid label key"),
        ({"matchLabels": {"ok": "bad value"}}, ".matchLabels.ok", "not a valid label value"),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            ".matchExpressions[0].values",
            "In needs at least one value",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "NotIn"}]},
            ".matchExpressions[0].values",
            "NotIn needs at least one value",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            ".matchExpressions[0].values",
            "Exists takes no values",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]},
            ".matchExpressions[0].values",
            "DoesNotExist takes no values",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            ".matchExpressions[0].operator",
            "is not one of",
        ),
        ({"matchNames": ["default"]}, ".matchNames", "unknown field"),
        ("app=db", "", "must be an object"),
    ],
)
def test_selector_errors_carry_their_field_path(where, selector, subpath, fragment):
    report = validate_spec({where: selector, "securityGroups": {"groupIds": ["sg-0123abcd"]}})
    path = f"spec.{where}{subpath}"
    assert list(report.errors) == [path]
    assert fragment in report.errors[path][0]


@pytest.mark.parametrize(
    ("security_groups", "path", "fragment"),
    [
        (None, "spec.securityGroups", "must be an object with groupIds"),
        (["sg-0123abcd"], "spec.securityGroups", "must be an object with groupIds"),
        ({}, "spec.securityGroups.groupIds", "at least one security group id"),
        ({"groupIds": []}, "spec.securityGroups.groupIds", "at least one security group id"),
        ({"groupIds": "sg-0123abcd"}, "spec.securityGroups.groupIds", "at least one"),
        (
            {"groupIds": ["sg-0123abcd"], "groupNames": ["x"]},
            "spec.securityGroups.groupNames",
            "unknown field",
        ),
    ],
)
def test_security_groups_shape(security_groups, path, fragment):
    spec = {"podSelector": {}}
    if security_groups is not None:
        spec["securityGroups"] = security_groups
    report = validate_spec(spec)
    assert list(report.errors) == [path]
    assert fragment in report.errors[path][0]


@pytest.mark.parametrize(
    "group_id", ["sg-0123abcd", "sg-0123456789abcdef0", "sg-00000000", "sg-ffffffff"]
)
def test_group_id_forms_accepted(group_id):
    assert validate_spec(with_groups([group_id])).ok


@pytest.mark.parametrize(
    "group_id",
    [
        "sg-0123abc",  # 7 digits
        "sg-0123abcde",  # 9 digits
        "sg-0123456789abcdef",  # 16 digits
        "sg-0123456789abcdef01",  # 18 digits
        "sg-0123ABCD",  # upper case
        "sg-f7990sfng33684fad",  # upstream's sample: not hex
        "0123abcd",
        "sg_0123abcd",
        " sg-0123abcd",
        "sg-0123abcd\n",  # "$" alone would let a final newline through
        "",
        None,
        1234,
    ],
)
def test_group_id_forms_refused_at_their_index(group_id):
    report = validate_spec(with_groups(["sg-0123abcd", group_id]))
    assert list(report.errors) == ["spec.securityGroups.groupIds[1]"]
    assert "is not a security group id" in report.errors["spec.securityGroups.groupIds[1]"][0]


def test_duplicate_group_id_is_refused_at_its_second_index():
    report = validate_spec(with_groups(["sg-0000000a", "sg-0000000b", "sg-0000000a"]))
    assert list(report.errors) == ["spec.securityGroups.groupIds[2]"]
    assert "listed twice" in report.errors["spec.securityGroups.groupIds[2]"][0]


@pytest.mark.parametrize("count", [1, 5])
def test_up_to_five_groups_no_warning(count):
    report = validate_spec(with_groups(ids(count)))
    assert report.ok
    assert report.warnings == {}


@pytest.mark.parametrize("count", [6, 16])
def test_six_to_sixteen_groups_warn_about_the_default_quota(count):
    report = validate_spec(with_groups(ids(count)))
    assert report.ok
    assert list(report.warnings) == ["spec.securityGroups.groupIds"]
    assert "default quota of 5" in report.warnings["spec.securityGroups.groupIds"][0]


def test_more_than_sixteen_groups_is_an_error():
    report = validate_spec(with_groups(ids(17)))
    assert list(report.errors) == ["spec.securityGroups.groupIds"]
    assert "at most 16" in report.errors["spec.securityGroups.groupIds"][0]
    assert report.warnings == {}


def test_all_problems_are_reported_together():
    report = validate_policy(
        "Bad_NS",
        "",
        {
            "podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]},
            "securityGroups": {"groupIds": ["nope", "nope"]},
        },
    )
    assert set(report.errors) == {
        "namespace",
        "name",
        "spec.podSelector.matchExpressions[0].values",
        "spec.securityGroups.groupIds[0]",
        "spec.securityGroups.groupIds[1]",
    }


def test_custom_prefix_for_nested_specs():
    report = validate_spec({"securityGroups": {"groupIds": []}}, prefix="items[3].spec")
    assert set(report.errors) == {"items[3].spec", "items[3].spec.securityGroups.groupIds"}
