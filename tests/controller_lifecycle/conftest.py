"""Lifecycle fixtures: the controller's seeded world on the stand-ins, with a node ready."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading

import pytest

from apps.controller.core.constants import BRANCH_DESCRIPTION, POD_ENI
from apps.controller.node_reconcile import reconcile_node
from apps.controller.pod_attach import attach_pod
from apps.inventory.models import BranchENI, Cluster
from tests.controller.world import build_world

PLUGIN = "standins.pytest_fixtures"


def pytest_configure(config):
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture
def world(db, ec2, kube, monkeypatch, settings, tmp_path):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")
    monkeypatch.setenv("SGPADMIN_DELETE_BACKOFF_SECONDS", "0")
    settings.VAR_DIR = tmp_path  # lock files (SQLite) of our own, not another test run's
    world = build_world(Cluster, ec2, kube.url, instance_types=("m5.large", "m5.large"))
    world.add_node(0)
    assert reconcile_node(world.cluster, "node-0").managed
    return world


def attached(world, name: str, node: int = 0) -> dict:
    """A pod on the node with its branch ENI, through the real attach path."""
    world.add_pod(name, node)
    outcome = attach_pod(world.cluster, "default", name)
    assert outcome.result == "attached", outcome
    entry = json.loads(world.pod(name)["metadata"]["annotations"][POD_ENI])[0]
    return entry


def watcher_sees(world, event: str, obj: dict) -> None:
    """What the cluster watcher does with a pod event: update the row, run the pod work."""
    from apps.controller.inventory_sync import PodRelease, apply_pod
    from apps.controller.release import release_pod

    for work in apply_pod(world.cluster, event, obj):
        if isinstance(work, PodRelease):
            release_pod(world.cluster, work.uid)
            continue
        outcome = attach_pod(world.cluster, work.namespace, work.name, work.uid)
        if outcome.release_uid:
            release_pod(world.cluster, outcome.release_uid)


def delete_pod(world, name: str) -> None:
    obj = world.pod(name)
    world.core.delete_namespaced_pod(name, "default")
    watcher_sees(world, "DELETED", obj)


def finish_pod(world, name: str, phase: str = "Succeeded") -> None:
    world.core.patch_namespaced_pod_status(name, "default", {"status": {"phase": phase}})
    watcher_sees(world, "MODIFIED", world.pod(name))


def branch_ids_in_ec2(world) -> set[str]:
    return {e["NetworkInterfaceId"] for e in world.ec2_seeder.describe_network_interfaces(
        Filters=[{"Name": "description", "Values": [BRANCH_DESCRIPTION]}])["NetworkInterfaces"]}


def associated_ids(world) -> set[str]:
    return {a["BranchInterfaceId"] for a in world.ec2_seeder.describe_trunk_interface_associations(
    )["InterfaceAssociations"]}


def age_cooldown(seconds: float = 3600) -> None:
    """Pretend the cooldowns began ``seconds`` ago (time passes without sleeping)."""
    for branch in BranchENI.objects.filter(cooling_since__isnull=False):
        BranchENI.objects.filter(pk=branch.pk).update(
            cooling_since=branch.cooling_since - dt.timedelta(seconds=seconds))


@contextlib.contextmanager
def held_elsewhere(kind: str, cluster_id: int, ident: str):
    """Hold a controller lock from another thread (its own database connection), as another
    worker would; PostgreSQL advisory locks are re-entrant within one session."""
    from django.db import connection

    from apps.controller.locks import try_lock

    taken, release = threading.Event(), threading.Event()
    outcome = {}

    def hold():
        try:
            with try_lock(kind, cluster_id, ident) as owned:
                outcome["owned"] = owned
                taken.set()
                release.wait(30)
        finally:
            taken.set()
            connection.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    try:
        assert taken.wait(30) and outcome.get("owned"), "could not take the lock"
        yield
    finally:
        release.set()
        thread.join(30)
