"""Controller fixtures: a seeded world on the EC2 and Kubernetes stand-ins."""

from __future__ import annotations

import pytest

from apps.inventory.models import Cluster
from tests.controller.world import build_world

PLUGIN = "standins.pytest_fixtures"


def pytest_configure(config):
    """Register the stand-in fixtures unless the root conftest already did."""
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
def world(db, ec2, kube, monkeypatch, settings, tmp_path):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")  # the tests measure behaviour, not pacing
    settings.VAR_DIR = tmp_path  # lock files (SQLite) of our own, not a parallel test's
    return build_world(Cluster, ec2, kube.url, instance_types=("m5.large", "m5.large"))
