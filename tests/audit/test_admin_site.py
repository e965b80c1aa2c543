"""The Django admin: every model is registered; a cluster can be created there."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from apps.inventory.models import Cluster
from tests.factories import UserFactory

PROJECT_APPS = ("accounts", "audit", "core", "inventory", "policies", "controller", "webhooks")


def test_every_project_model_has_an_admin():
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS and model not in admin.site._registry
    ]
    assert missing == []


@pytest.fixture
def root_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_admin_creates_a_cluster(root_client):
    response = root_client.post(
        "/admin/inventory/cluster/add/",
        {"name": "gamma", "region": "eu-west-1", "vpc_id": "vpc-0123abcd", "branch_cooldown_seconds": 60},
    )
    assert response.status_code == 302
    assert Cluster.objects.get(name="gamma").region == "eu-west-1"


def test_admin_refuses_a_cooldown_below_the_minimum(root_client):
    response = root_client.post(
        "/admin/inventory/cluster/add/",
        {"name": "gamma", "region": "eu-west-1", "vpc_id": "vpc-0123abcd", "branch_cooldown_seconds": 5},
    )
    assert response.status_code == 200
    assert not Cluster.objects.filter(name="gamma").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/admin/", "/admin/inventory/cluster/", "/admin/policies/policy/", "/admin/accounts/apitoken/",
        "/admin/accounts/rolebinding/", "/admin/audit/changerecord/", "/admin/core/job/",
        "/admin/inventory/nodereport/", "/admin/core/idempotencykey/",
    ],
)
def test_admin_pages_render(root_client, path):
    assert root_client.get(path).status_code == 200


def test_tokens_cannot_be_added_in_the_admin(root_client):
    assert root_client.get("/admin/accounts/apitoken/add/").status_code == 403
