"""The webhook configurations in deploy/webhooks call our endpoints with upstream's rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.urls import resolve

from apps.webhooks import views

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "webhooks"


def load(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())


@pytest.mark.parametrize(
    ("name", "kind", "webhook", "operations", "view"),
    [
        (
            "mutating-webhook.yaml",
            "MutatingWebhookConfiguration",
            "mpod.vpc.k8s.aws",
            ["CREATE"],
            views.mutate_pod,
        ),
        (
            "validating-webhook.yaml",
            "ValidatingWebhookConfiguration",
            "vpod.vpc.k8s.aws",
            ["CREATE", "UPDATE"],
            views.validate_pod,
        ),
    ],
)
def test_configuration_matches_upstream_and_our_endpoints(name, kind, webhook, operations, view):
    config = load(name)
    assert config["apiVersion"] == "admissionregistration.k8s.io/v1" and config["kind"] == kind
    hooks = {hook["name"]: hook for hook in config["webhooks"]}
    hook = hooks[webhook]
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["sideEffects"] == "None"
    assert hook["matchPolicy"] == "Equivalent"
    assert hook["failurePolicy"] == "Ignore"
    assert hook["rules"] == [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": operations,
            "resources": ["pods"],
            "scope": "Namespaced",
        }
    ]
    assert resolve(hook["clientConfig"]["service"]["path"]).func is view


def test_the_fail_closed_overlay_sets_fail_on_both_and_spares_system_namespaces():
    overlay = load("fail-closed/kustomization.yaml")
    assert overlay["resources"] == [".."]
    targets = {
        patch["target"]["kind"]: yaml.safe_load(patch["patch"]) for patch in overlay["patches"]
    }
    assert set(targets) == {"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
    for ops in targets.values():
        assert {"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Fail"} in ops
        [selector] = [op["value"] for op in ops if op["path"] == "/webhooks/0/namespaceSelector"]
        assert selector["matchExpressions"][0]["values"] == ["sgpadmin", "kube-system"]
    names = {
        d["metadata"]["name"]
        for d in (load("mutating-webhook.yaml"), load("validating-webhook.yaml"))
    }
    assert names == {patch["target"]["name"] for patch in overlay["patches"]}


def test_the_node_webhook_sees_node_updates_and_stays_fail_open():
    hooks = {hook["name"]: hook for hook in load("validating-webhook.yaml")["webhooks"]}
    assert list(hooks) == ["vpod.vpc.k8s.aws", "vnode.vpc.k8s.aws"]
    node = hooks["vnode.vpc.k8s.aws"]
    assert node["rules"][0]["operations"] == ["UPDATE"] and node["rules"][0]["resources"] == [
        "nodes"
    ]
    assert node["failurePolicy"] == "Ignore" and node["sideEffects"] == "None"
    assert resolve(node["clientConfig"]["service"]["path"]).func is views.validate_node
