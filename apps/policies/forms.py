"""Policy forms: the spec edited as structured fields or as YAML, the filter and import forms.

The structured fields are plain text, one item a line (``key=value`` labels,
``key In a, b`` expressions, one group id a line), converted to and from the CRD's spec
by the pure functions below. Validation is the policy's own (``validate_policy``); this
module only maps its field paths onto the form's fields.
"""

from __future__ import annotations

from typing import Any

import yaml
from django import forms

from apps.accounts.scoping import user_can
from apps.core.generic.forms import ChangeMessageMixin, VersionedFormMixin
from apps.inventory.models import Cluster

from .models import Origin, Policy
from .selectors import OPERATORS
from .validation import validate_policy

VALUELESS = ("Exists", "DoesNotExist")
SELECTORS = (("pod", "podSelector"), ("sa", "serviceAccountSelector"))


class SpecInputError(ValueError):
    """A structured field that cannot be read; carries the form field's name."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_labels(text: str, field: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for line in _lines(text):
        key, sep, value = line.partition("=")
        if not sep:
            raise SpecInputError(field, f"{line!r}: write each label as key=value")
        labels[key.strip()] = value.strip()
    return labels


def parse_expressions(text: str, field: str) -> list[dict[str, Any]]:
    expressions = []
    for line in _lines(text):
        parts = line.split(None, 2)
        if len(parts) < 2 or parts[1] not in OPERATORS:
            raise SpecInputError(
                field, f"{line!r}: write key, an operator ({', '.join(OPERATORS)}) and values"
            )
        key, operator = parts[0], parts[1]
        expression: dict[str, Any] = {"key": key, "operator": operator}
        if operator not in VALUELESS:
            raw = parts[2] if len(parts) > 2 else ""
            expression["values"] = [v.strip() for v in raw.strip("()[] ").split(",") if v.strip()]
        expressions.append(expression)
    return expressions


def parse_group_ids(text: str) -> list[str]:
    return [g for g in (text or "").replace(",", " ").split() if g]


def format_labels(labels: dict) -> str:
    return "\n".join(f"{k}={v}" for k, v in (labels or {}).items())


def format_expressions(expressions: list) -> str:
    lines = []
    for e in expressions or []:
        values = e.get("values") or []
        lines.append(f"{e.get('key')} {e.get('operator')} {', '.join(values)}".rstrip())
    return "\n".join(lines)


def spec_from_fields(data: dict) -> dict[str, Any]:
    """The CRD spec from the structured fields; raises SpecInputError."""
    spec: dict[str, Any] = {}
    for prefix, key in SELECTORS:
        if not data.get(f"{prefix}_enabled"):
            continue
        selector: dict[str, Any] = {}
        labels = parse_labels(data.get(f"{prefix}_labels", ""), f"{prefix}_labels")
        expressions = parse_expressions(
            data.get(f"{prefix}_expressions", ""), f"{prefix}_expressions"
        )
        if labels:
            selector["matchLabels"] = labels
        if expressions:
            selector["matchExpressions"] = expressions
        spec[key] = selector
    spec["securityGroups"] = {"groupIds": parse_group_ids(data.get("group_ids", ""))}
    return spec


def spec_from_yaml(text: str) -> Any:
    try:
        spec = yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        raise SpecInputError("spec_yaml", f"not valid YAML: {exc}") from exc
    except RecursionError as exc:  # PyYAML recurses once per level of nesting
        raise SpecInputError("spec_yaml", "not valid YAML: nested too deeply") from exc
    return {} if spec is None else spec


def fields_from_spec(spec: dict) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for prefix, key in SELECTORS:
        selector = spec.get(key) if isinstance(spec, dict) else None
        initial[f"{prefix}_enabled"] = selector is not None
        if isinstance(selector, dict):
            initial[f"{prefix}_labels"] = format_labels(selector.get("matchLabels"))
            initial[f"{prefix}_expressions"] = format_expressions(selector.get("matchExpressions"))
    groups = (spec.get("securityGroups") or {}) if isinstance(spec, dict) else {}
    initial["group_ids"] = "\n".join(groups.get("groupIds") or [])
    initial["spec_yaml"] = yaml.safe_dump(spec, sort_keys=False) if spec else ""
    return initial


def fields_can_represent(spec: Any) -> bool:
    """Whether the structured fields show ``spec`` completely (else it is edited as YAML,
    so that nothing the fields cannot show is dropped on save)."""
    try:
        return spec_from_fields(fields_from_spec(spec)) == spec
    except (SpecInputError, AttributeError, TypeError):
        return False


def field_for_path(path: str, mode: str) -> str | None:
    """The form field that shows the validation error at ``path`` (None: the whole form)."""
    if path in ("namespace", "name"):
        return path
    if mode == "yaml":
        return "spec_yaml"
    for prefix, key in SELECTORS:
        if path.startswith(f"spec.{key}.matchExpressions"):
            return f"{prefix}_expressions"
        if path.startswith(f"spec.{key}"):
            return f"{prefix}_labels"
    if path.startswith("spec.securityGroups"):
        return "group_ids"
    return None


TEXTAREA = {"rows": 3}


def clusters_where_user_may_add(user):
    """Clusters in which the user may add policies in at least one namespace."""
    visible = Cluster.objects.restrict(user, "view")
    return visible.filter(pk__in=[c.pk for c in visible if user_can(user, "add", c.name)])


class PolicyForm(ChangeMessageMixin, VersionedFormMixin, forms.Form):
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none())
    namespace = forms.CharField(max_length=63)
    name = forms.CharField(max_length=63)
    description = forms.CharField(max_length=500, required=False)
    edit_mode = forms.ChoiceField(
        choices=[("fields", "Fields"), ("yaml", "YAML")], initial="fields", widget=forms.HiddenInput
    )
    pod_enabled = forms.BooleanField(label="Select pods by their labels", required=False)
    pod_labels = forms.CharField(
        label="Pod labels",
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="One key=value a line. Leave both empty to select every pod in the namespace.",
    )
    pod_expressions = forms.CharField(
        label="Pod label expressions",
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="One a line: key In a, b · key NotIn a · key Exists · key DoesNotExist",
    )
    sa_enabled = forms.BooleanField(label="Select pods by their service account", required=False)
    sa_labels = forms.CharField(
        label="Service account labels", required=False, widget=forms.Textarea(attrs=TEXTAREA)
    )
    sa_expressions = forms.CharField(
        label="Service account label expressions",
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    group_ids = forms.CharField(
        label="Security group ids",
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text="One sg-… id a line.",
    )
    spec_yaml = forms.CharField(
        label="Spec (YAML)", required=False, widget=forms.Textarea(attrs={"rows": 14})
    )

    def __init__(self, *args, instance: Policy | None = None, user=None, **kwargs):
        self.instance = instance or Policy()
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters_where_user_may_add(user)
        if instance is not None and instance.pk is not None:
            self.initial.update(
                cluster=instance.cluster_id,
                namespace=instance.namespace,
                name=instance.name,
                description=instance.description,
                **fields_from_spec(instance.spec),
                edit_mode="fields" if fields_can_represent(instance.spec) else "yaml",
            )
            for identity in ("cluster", "namespace", "name"):
                self.fields[identity].disabled = True
                self.fields[identity].help_text = "A policy's identity cannot change."
        else:
            self.initial.setdefault("pod_enabled", True)

    @property
    def mode(self) -> str:
        value = self.data.get("edit_mode") if self.is_bound else self.initial.get("edit_mode")
        return "yaml" if value == "yaml" else "fields"

    def build_spec(self, data: dict) -> Any:
        """The spec this form describes; raises SpecInputError."""
        if self.mode == "yaml":
            return spec_from_yaml(data.get("spec_yaml", ""))
        return spec_from_fields(data)

    def clean(self):
        data = super().clean()
        try:
            spec = self.build_spec(data)
        except SpecInputError as exc:
            self.add_error(exc.field, exc.message)
            return data
        namespace, name = data.get("namespace"), data.get("name")
        cluster = data.get("cluster")
        if (
            self.instance.pk is None
            and cluster
            and name
            and Policy.objects.filter(cluster=cluster, namespace=namespace, name=name).exists()
        ):
            self.add_error(
                "name", f"A policy named {name} already exists in {cluster}/{namespace}."
            )
        report = validate_policy(namespace, name, spec)
        for path, problems in report.errors.items():
            field = field_for_path(path, self.mode)
            for problem in problems:
                message = problem if field and field != "spec_yaml" else f"{path}: {problem}"
                if field is None or field not in self.errors or message not in self.errors[field]:
                    self.add_error(field, message)
        self.warnings = report.warnings
        data["spec"] = spec
        return data

    def save(self) -> Policy:
        policy = self.instance
        data = self.cleaned_data
        if policy.pk is None:
            policy.cluster = data["cluster"]
            policy.namespace = data["namespace"]
            policy.name = data["name"]
            policy.origin = Origin.UI
        else:
            self.check_version(policy)
        policy.spec = data["spec"]
        policy.description = data.get("description", "")
        policy.save()
        return policy


class PolicyImportForm(ChangeMessageMixin, forms.Form):
    cluster = forms.ModelChoiceField(queryset=Cluster.objects.none())
    yaml_file = forms.FileField(label="YAML file", required=False)
    yaml_text = forms.CharField(
        label="or paste YAML", required=False, widget=forms.Textarea(attrs={"rows": 14})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cluster"].queryset = clusters_where_user_may_add(user)

    def clean(self):
        data = super().clean()
        upload = data.get("yaml_file")
        text = (
            upload.read().decode("utf-8", errors="replace") if upload else data.get("yaml_text", "")
        )
        if not text.strip():
            raise forms.ValidationError("Upload a file or paste the YAML.")
        data["text"] = text
        return data
