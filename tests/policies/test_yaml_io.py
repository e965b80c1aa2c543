"""YAML manifests in and out (apps/policies/yaml_io.py)."""

from __future__ import annotations

import textwrap

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from apps.policies.yaml_io import (
    API_VERSION,
    KIND,
    ParsedPolicy,
    parse_manifests,
    render_manifests,
)

from .spec_strategies import valid_specs

UPSTREAM_SAMPLE = """\
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: my-security-group-policy
  namespace: my-namespace
spec:
  podSelector:
    matchLabels:
      role: my-role
  securityGroups:
    groupIds:
      - sg-0123456789abcdef0
"""

# As printed by `kubectl get sgp -o yaml`: server-populated metadata and a status.
FROM_THE_SERVER = """\
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"vpcresources.k8s.aws/v1beta1"}
  creationTimestamp: "2026-01-01T10:00:00Z"
  generation: 3
  labels:
    team: payments
  managedFields:
  - manager: kubectl
    operation: Update
  name: db-access
  namespace: payments
  resourceVersion: "123456"
  uid: 0f6b1a44-6a57-4b7e-9b54-0d9c0f3bd2a1
spec:
  serviceAccountSelector:
    matchExpressions:
    - key: environment
      operator: In
      values: [qa, production]
  securityGroups:
    groupIds: [sg-0123abcd, sg-0123abce]
status: {}
"""


def one_error(text: str):
    policies, errors = parse_manifests(text)
    assert policies == []
    assert len(errors) == 1, errors
    return errors[0]


def test_upstream_sample_parses():
    policies, errors = parse_manifests(UPSTREAM_SAMPLE)
    assert errors == []
    assert policies == [
        ParsedPolicy(
            namespace="my-namespace",
            name="my-security-group-policy",
            spec={
                "podSelector": {"matchLabels": {"role": "my-role"}},
                "securityGroups": {"groupIds": ["sg-0123456789abcdef0"]},
            },
            document=1,
            line=1,
        )
    ]


def test_server_populated_metadata_and_status_are_ignored():
    policies, errors = parse_manifests(FROM_THE_SERVER)
    assert errors == []
    [policy] = policies
    assert (policy.namespace, policy.name) == ("payments", "db-access")
    assert set(policy.spec) == {"serviceAccountSelector", "securityGroups"}


def test_several_documents_with_empty_ones_and_comments():
    # A comment before the first "---" is not a document; "---" twice makes an empty one.
    text = "# exported\n---\n" + UPSTREAM_SAMPLE + "---\n---\n# nothing\n---\n" + FROM_THE_SERVER
    policies, errors = parse_manifests(text)
    assert errors == []
    assert [(p.document, p.name) for p in policies] == [
        (1, "my-security-group-policy"),
        (4, "db-access"),
    ]
    assert (
        policies[1].line
        == text.splitlines().index("apiVersion: vpcresources.k8s.aws/v1beta1", 8) + 1
    )


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n", "---\n...\n"])
def test_nothing_to_import(text):
    assert parse_manifests(text) == ([], [])


def test_kubectl_list_output_is_read_item_by_item():
    items = [yaml.safe_load(UPSTREAM_SAMPLE), yaml.safe_load(FROM_THE_SERVER)]
    items[1]["spec"]["securityGroups"]["groupIds"].append("bogus")
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {}})
    policies, errors = parse_manifests(text)
    assert [p.name for p in policies] == ["my-security-group-policy"]
    [error] = errors
    assert error.document == 1
    assert error.path == "items[1].spec.securityGroups.groupIds[2]"
    assert error.line == text.splitlines().index("      - bogus") + 1


@pytest.mark.parametrize(
    ("replace", "by", "path", "fragment"),
    [
        ("vpcresources.k8s.aws/v1beta1", "vpcresources.k8s.aws/v1", "apiVersion", "must be"),
        ("kind: SecurityGroupPolicy", "kind: NetworkPolicy", "kind", "must be SecurityGroupPolicy"),
        ("  name: my-security-group-policy\n", "", "metadata.name", "required"),
        ("  namespace: my-namespace\n", "", "metadata.namespace", "required"),
        ("name: my-security-group-policy", "name: My_Policy", "metadata.name", "DNS-1123"),
        ("namespace: my-namespace", "namespace: ns.with.dots", "metadata.namespace", "DNS-1123"),
        ("  name: my", "  nmae: typo\n  name: my", "metadata.nmae", "unknown metadata field"),
        ("spec:", "extra: 1\nspec:", "extra", "unknown field"),
        ("role: my-role", "role: not valid!", "spec.podSelector.matchLabels.role", "label value"),
        ("sg-0123456789abcdef0", "sg-xyz", "spec.securityGroups.groupIds[0]", "not a security"),
        ("  podSelector:\n    matchLabels:\n      role: my-role\n", "", "spec", "podSelector or"),
    ],
)
def test_each_kind_of_document_error_names_its_field_and_line(replace, by, path, fragment):
    text = UPSTREAM_SAMPLE.replace(replace, by)
    assert text != UPSTREAM_SAMPLE
    policies, errors = parse_manifests(text)
    assert policies == []
    matching = [e for e in errors if e.path == path]
    assert matching, errors
    assert fragment in matching[0].reason
    assert matching[0].document == 1
    assert matching[0].line is not None


def test_error_line_points_at_the_offending_value():
    text = UPSTREAM_SAMPLE.replace("sg-0123456789abcdef0", "sg-0123456789abcdef0\n      - nope")
    error = one_error(text)
    assert error.path == "spec.securityGroups.groupIds[1]"
    assert text.splitlines()[error.line - 1].strip() == "- nope"
    assert str(error).startswith(f"document 1, line {error.line}: spec.securityGroups.groupIds[1]:")


def test_missing_metadata():
    text = "\n".join(line for line in UPSTREAM_SAMPLE.splitlines() if "name" not in line)
    error = one_error(text.replace("metadata:\n", ""))
    assert (error.path, error.reason) == (
        "metadata",
        "metadata with name and namespace is required",
    )


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n"])
def test_a_document_that_is_not_an_object(text):
    error = one_error(text)
    assert error.path == ""
    assert "must be a YAML mapping" in error.reason


def test_errors_in_several_documents_are_all_reported_with_their_document():
    bad_kind = UPSTREAM_SAMPLE.replace(KIND, "Pod")
    text = UPSTREAM_SAMPLE + "---\n" + bad_kind + "---\n" + bad_kind.replace("my-security", "x")
    policies, errors = parse_manifests(text)
    assert [p.document for p in policies] == [1]
    assert [(e.document, e.path) for e in errors] == [(2, "kind"), (3, "kind")]


def test_duplicate_namespace_and_name_in_one_upload():
    text = UPSTREAM_SAMPLE + "---\n" + UPSTREAM_SAMPLE.replace("my-role", "other")
    policies, errors = parse_manifests(text)
    assert [p.document for p in policies] == [1]
    [error] = errors
    assert (error.document, error.path) == (2, "metadata.name")
    assert "also defined in document 1" in error.reason
    assert error.line == text.splitlines().index("  name: my-security-group-policy", 5) + 1


def test_same_name_in_another_namespace_is_not_a_duplicate():
    text = UPSTREAM_SAMPLE + "---\n" + UPSTREAM_SAMPLE.replace("my-namespace", "other-ns")
    policies, errors = parse_manifests(text)
    assert errors == []
    assert len(policies) == 2


def test_yaml_syntax_error_is_one_error_with_its_line():
    text = UPSTREAM_SAMPLE + "---\n" + UPSTREAM_SAMPLE.replace("groupIds:", "groupIds: [sg-1")
    error = one_error(text)
    assert error.document == 2
    assert error.path == ""
    assert error.reason.startswith("not valid YAML:")
    assert error.line is not None and error.line > UPSTREAM_SAMPLE.count("\n")


def test_tab_indentation_is_a_syntax_error():
    error = one_error("apiVersion: x\nmetadata:\n\tname: a\n")
    assert error.line == 3
    assert "not valid YAML" in error.reason


def test_duplicate_keys_are_refused():
    error = one_error(UPSTREAM_SAMPLE.replace("  name: my", "  namespace: dup\n  name: my"))
    assert (error.path, error.reason) == ("metadata.namespace", "key 'namespace' appears twice")


def test_anchors_and_aliases_are_refused():
    text = UPSTREAM_SAMPLE.replace(
        "  podSelector:", "  serviceAccountSelector: &sel {}\n  podSelector: *sel\n  x:"
    )
    text = text.replace("  x:\n    matchLabels:\n      role: my-role\n", "")
    error = one_error(text)
    assert error.reason == "YAML anchors and aliases are not supported"
    assert error.path == "spec.podSelector"


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ("[" * 5000, "nested too deeply", None),
        ("a: " + "{b: " * 3000 + "1" + "}" * 3000, "nested too deeply", None),
        ("a: " + "[" * 40 + "]" * 40, "nested more than 32 levels deep", 1),
        ("kind: x\nname: \x00\n", "unacceptable character #x0000", 2),
        (
            "kind: x\nrun: !!python/object/apply:os.system [id]\n",
            "could not determine a constructor",
            2,
        ),
        ("kind: !custom x\n", "could not determine a constructor for the tag '!custom'", 1),
    ],
)
def test_hostile_or_odd_yaml_gives_an_error_not_a_crash(text, fragment, line):
    error = one_error(text)
    assert fragment in error.reason
    assert error.line == line


def test_more_than_five_groups_parses_with_a_warning():
    groups = "".join(f"      - sg-{n:08x}\n" for n in range(1, 7))
    text = UPSTREAM_SAMPLE.replace("      - sg-0123456789abcdef0\n", groups)
    policies, errors = parse_manifests(text)
    assert errors == []
    assert list(policies[0].warnings) == ["spec.securityGroups.groupIds"]


def test_error_as_dict_for_the_api():
    error = one_error(UPSTREAM_SAMPLE.replace(KIND, "Pod"))
    assert error.as_dict() == {
        "document": 1,
        "line": 2,
        "path": "kind",
        "reason": "must be SecurityGroupPolicy, not 'Pod'",
    }


# --- rendering ------------------------------------------------------------------------------


def test_render_is_kubectl_shaped_with_stable_key_order():
    policies, _ = parse_manifests(FROM_THE_SERVER + "---\n" + UPSTREAM_SAMPLE)
    text = render_manifests(policies)
    documents = list(yaml.safe_load_all(text))
    assert len(documents) == 2
    for document in documents:
        assert list(document) == ["apiVersion", "kind", "metadata", "spec"]
        assert document["apiVersion"] == API_VERSION
        assert document["kind"] == KIND
        assert list(document["metadata"]) == ["name", "namespace"]
    assert list(documents[0]["spec"]) == ["serviceAccountSelector", "securityGroups"]
    assert documents[0]["spec"]["serviceAccountSelector"]["matchExpressions"][0] == {
        "key": "environment",
        "operator": "In",
        "values": ["qa", "production"],
    }
    assert text.startswith(
        "---\napiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\n"
    )
    assert text.count("\n---\n") == 1


def test_render_orders_spec_keys_whatever_order_they_were_stored_in():
    stored = ParsedPolicy(
        namespace="ns",
        name="p",
        spec={
            "securityGroups": {"groupIds": ["sg-0000000b", "sg-0000000a"]},
            "podSelector": {
                "matchExpressions": [{"values": ["x"], "operator": "In", "key": "b"}],
                "matchLabels": {"z": "1", "a": "2"},
            },
        },
        document=1,
    )
    expected = textwrap.dedent(
        """\
        ---
        apiVersion: vpcresources.k8s.aws/v1beta1
        kind: SecurityGroupPolicy
        metadata:
          name: p
          namespace: ns
        spec:
          podSelector:
            matchLabels:
              a: '2'
              z: '1'
            matchExpressions:
            - key: b
              operator: In
              values:
              - x
          securityGroups:
            groupIds:
            - sg-0000000b
            - sg-0000000a
        """
    )
    assert render_manifests([stored]) == expected


def test_render_nothing():
    assert render_manifests([]) == ""


def test_values_that_yaml_would_retype_are_quoted():
    spec = {
        "podSelector": {"matchLabels": {"enabled": "true", "n": "1", "x": "yes", "e": ""}},
        "securityGroups": {"groupIds": ["sg-12345678"]},
    }
    policy = ParsedPolicy(namespace="ns", name="p", spec=spec, document=1)
    policies, errors = parse_manifests(render_manifests([policy]))
    assert errors == []
    assert policies[0].spec == spec


@given(st.lists(valid_specs(), min_size=1, max_size=4))
def test_property_export_then_import_round_trips(specs):
    originals = [
        ParsedPolicy(namespace=f"ns-{i % 2}", name=f"policy-{i}", spec=spec, document=i + 1)
        for i, spec in enumerate(specs)
    ]
    text = render_manifests(originals)
    policies, errors = parse_manifests(text)
    assert errors == []
    assert [(p.namespace, p.name, p.spec) for p in policies] == [
        (p.namespace, p.name, p.spec) for p in originals
    ]
    assert render_manifests(policies) == text
