"""The lifecycle's Celery tasks, run eagerly: ticks fan out due work, the worker_ready
resync, the release task; and the beat entries point at registered tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from apps.controller import tasks_lifecycle as tasks
from apps.controller.models import GCRun, GCRunKind
from apps.inventory.models import BranchENI, BranchENIState, Node
from sgpadmin.celery import app
from worker.schedule import lifecycle_schedule

from .conftest import age_cooldown, attached, branch_ids_in_ec2


@pytest.fixture
def eager():
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_beat_entries_name_registered_tasks():
    app.loader.import_default_modules()
    names = {entry["task"] for entry in lifecycle_schedule().values()}
    assert names == {"controller.tick_release", "controller.tick_leak_checks",
                     "controller.tick_sweeps", "controller.resync_all"}
    assert names <= set(app.tasks)


def test_tick_release_deletes_cooled_branches(world, eager):
    entry = attached(world, "p1")
    uid = BranchENI.objects.get(eni_id=entry["eniId"]).pod_uid
    assert tasks.release_pod(world.cluster.pk, uid) == "1 branches cooling"
    assert tasks.tick_release()["queues"] == 1  # not due yet: the pass finds nothing
    assert entry["eniId"] in branch_ids_in_ec2(world)
    age_cooldown()
    tasks.tick_release()
    assert BranchENI.objects.get(eni_id=entry["eniId"]).state == BranchENIState.DELETED
    assert tasks.tick_release()["queues"] == 0
    assert GCRun.objects.filter(kind=GCRunKind.COOLDOWN_UPDATE).count() == 1  # first sight


def test_tick_release_releases_deleted_nodes_then_cleans_them_up(world, eager):
    attached(world, "p1")
    world.core.delete_node("node-0")
    Node.objects.filter(name="node-0").update(deleted_at=timezone.now() - dt.timedelta(minutes=2))
    sent = tasks.tick_release()  # eager: the release runs before the cleanup is looked for
    assert sent["node_releases"] == 1 and sent["node_cleanups"] == 1
    assert not BranchENI.objects.exclude(state=BranchENIState.DELETED).exists()
    assert GCRun.objects.filter(kind=GCRunKind.NODE_TERMINATION, node_name="node-0").exists()
    assert tasks.tick_release() == {"queues": 0, "node_releases": 0, "node_cleanups": 0}


def test_tick_release_leaves_a_deleted_node_without_an_instance_id_alone(world, eager):
    Node.objects.create(cluster=world.cluster, name="ghost",
                        deleted_at=timezone.now() - dt.timedelta(minutes=2))
    for _ in range(3):
        assert tasks.tick_release()["node_cleanups"] == 0
    assert not GCRun.objects.filter(kind=GCRunKind.NODE_TERMINATION).exists()


def test_leak_and_sweep_ticks_run_when_due(world, eager):
    assert tasks.tick_leak_checks() == 1 and tasks.tick_leak_checks() == 0
    assert tasks.tick_sweeps() == 1 and tasks.tick_sweeps() == 0
    kinds = set(GCRun.objects.values_list("kind", flat=True))
    assert {GCRunKind.LEAK_CHECK, GCRunKind.SWEEP} <= kinds


def test_worker_start_resyncs_every_node(world, eager, monkeypatch):
    world.add_pod("waiting", 0)
    tasks.resync_on_worker_start()
    run = GCRun.objects.get(kind=GCRunKind.RESYNC, node_name="node-0")
    assert run.details["attach"][0][1] == "waiting"
    assert "vpc.amazonaws.com/pod-eni" in world.pod("waiting")["metadata"]["annotations"]
    monkeypatch.setenv(tasks.RESYNC_ON_START_ENV, "0")
    tasks.resync_on_worker_start()
    assert GCRun.objects.filter(kind=GCRunKind.RESYNC).count() == 1


def test_release_of_a_busy_pod_is_retried_then_left_to_the_leak_check(world, monkeypatch):
    from .conftest import held_elsewhere

    entry = attached(world, "p1")
    uid = BranchENI.objects.get(eni_id=entry["eniId"]).pod_uid
    sent = []
    monkeypatch.setattr(tasks.release_pod, "apply_async",
                        lambda args, countdown: sent.append((args, countdown)))
    with held_elsewhere("pod", world.cluster.pk, uid):
        assert tasks.release_pod(world.cluster.pk, uid) == "busy: requeued"
        assert sent == [((world.cluster.pk, uid, 1), 1.0)]
        last = tasks.release_pod(world.cluster.pk, uid, tasks.RELEASE_BUSY_REQUEUES)
        assert last == "busy: left to the leak check" and len(sent) == 1
    assert BranchENI.objects.get(eni_id=entry["eniId"]).state == BranchENIState.ATTACHED
