"""Several real Celery workers on Redis and PostgreSQL: no pod gets two ENIs, no VLAN goes to
two live branches, and a worker killed mid-attach loses and duplicates nothing."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter

import pytest
from django.conf import settings
from django.db import connection

from apps.controller.core.constants import BRANCH_DESCRIPTION, POD_ENI
from apps.controller.node_reconcile import reconcile_node
from apps.controller.tasks import attach_pod_task
from apps.inventory.models import BranchENI, BranchENIState, Cluster
from tests.controller.celery_workers import Worker
from tests.controller.world import build_world

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def needs_services():
    if connection.vendor != "postgresql" or not settings.REDIS_URL:
        pytest.skip("needs DATABASE_URL=postgres://... and REDIS_URL")


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []
    queue = f"controller-test-{uuid.uuid4().hex[:8]}"

    def start(concurrency: int = 4, pool: str = "prefork", **env) -> Worker:
        worker = Worker(queue, concurrency, tmp_path / f"worker-{len(started)}.log",
                        {"SGPADMIN_EC2_QPS": "0", **env}, pool=pool)
        started.append(worker)
        return worker

    start.queue = queue
    yield start
    for worker in started:
        worker.kill()


def annotated(world, names):
    done = {}
    for pod in world.core.list_namespaced_pod("default").items:
        value = (pod.metadata.annotations or {}).get(POD_ENI)
        if pod.metadata.name in names and value:
            done[pod.metadata.name] = json.loads(value)[0]
    return done


def wait_for_annotations(world, names, timeout, workers_=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = annotated(world, names)
        if len(done) == len(names):
            return done
        time.sleep(0.25)
    logs = "\n---\n".join(w.tail() for w in workers_)
    raise AssertionError(f"{len(annotated(world, names))}/{len(names)} annotated\n{logs}")


def check_invariants(world, done):
    """One live attached branch per pod, unique VLANs per trunk, EC2 agrees, no orphans."""
    live = list(BranchENI.objects.exclude(state=BranchENIState.DELETED))
    per_pod = Counter(b.pod_uid for b in live)
    assert all(n == 1 for n in per_pod.values()), per_pod
    assert all(b.state == BranchENIState.ATTACHED for b in live)
    vlans = Counter((b.trunk_id, b.vlan_id) for b in live)
    assert all(n == 1 for n in vlans.values())
    enis = world.ec2_seeder.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": [BRANCH_DESCRIPTION]}])["NetworkInterfaces"]
    assocs = world.ec2_seeder.describe_trunk_interface_associations()["InterfaceAssociations"]
    assert sorted(e["NetworkInterfaceId"] for e in enis) == sorted(
        d["eniId"] for d in done.values())
    by_branch = {a["BranchInterfaceId"]: a for a in assocs}
    assert len(by_branch) == len(assocs) == len(done)
    assert len({(a["TrunkInterfaceId"], a["VlanId"]) for a in assocs}) == len(assocs)
    for entry in done.values():
        assoc = by_branch[entry["eniId"]]
        assert (assoc["VlanId"], assoc["AssociationId"]) == (entry["vlanId"],
                                                             entry["associationID"])


@pytest.fixture
def cluster_world(transactional_db, needs_services, ec2, kube):
    return build_world(Cluster, ec2, kube.url, instance_types=("m5.xlarge",) * 3)


def ready_nodes(world, count, monkeypatch):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")
    for index in range(count):
        world.add_node(index)
        assert reconcile_node(world.cluster, world.node_name(index)).managed


# threads: the pool `python -m worker worker` runs by default; prefork: the alternative.
@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_concurrent_workers_never_double_allocate(cluster_world, workers, ec2, monkeypatch,
                                                  pool):
    world = cluster_world
    ready_nodes(world, 3, monkeypatch)
    names = [f"p{i}" for i in range(45)]
    uids = {}
    for i, name in enumerate(names):
        uids[name] = world.add_pod(name, i % 3)["metadata"]["uid"]
    ec2.control.configure(latency_ms=20, faults=[
        {"actions": ["AssociateTrunkInterface"], "rate": 0.1, "code": "InternalError",
         "status": 500}])
    for _ in range(3):  # every pod three times over: duplicate deliveries race each other
        for name in names:
            attach_pod_task.apply_async((world.cluster.pk, "default", name, uids[name]),
                                        queue=workers.queue)
    started = [workers(4, pool), workers(4, pool)]
    done = wait_for_annotations(world, names, 120, started)
    time.sleep(1.0)  # let duplicate tasks still in flight finish
    check_invariants(world, done)


@pytest.mark.parametrize("pool", ["threads", "prefork"])
def test_worker_killed_mid_attach_converges_without_duplicates(cluster_world, workers, ec2,
                                                              monkeypatch, pool):
    world = cluster_world
    ready_nodes(world, 1, monkeypatch)
    names = ["k0", "k1", "k2"]
    uids = {n: world.add_pod(n, 0)["metadata"]["uid"] for n in names}
    ec2.control.configure(latency_ms_by_action={"AssociateTrunkInterface": 1500})
    for name in names:
        attach_pod_task.apply_async((world.cluster.pk, "default", name, uids[name]),
                                    queue=workers.queue)
    first = workers(1, pool)
    deadline = time.monotonic() + 60
    while not BranchENI.objects.exclude(eni_id="").filter(
            state=BranchENIState.CREATING).exists():
        assert time.monotonic() < deadline, first.tail()
        time.sleep(0.05)
    first.kill()  # SIGKILL mid-attach: ENI created, association in flight, message unacked
    # A fresh worker; the watcher's relist (played here) enqueues the unannotated pods again,
    # since a killed worker's unacked message only returns after the visibility timeout.
    ec2.control.configure(latency_ms_by_action={})
    for name in names:
        attach_pod_task.apply_async((world.cluster.pk, "default", name, uids[name]),
                                    queue=workers.queue)
    second = workers(2, pool)
    done = wait_for_annotations(world, names, 60, [first, second])
    time.sleep(0.5)
    check_invariants(world, done)


def test_pool_process_killed_mid_attach_is_redelivered(cluster_world, workers, ec2,
                                                      monkeypatch):
    world = cluster_world
    ready_nodes(world, 1, monkeypatch)
    uid = world.add_pod("r0", 0)["metadata"]["uid"]
    ec2.control.configure(latency_ms_by_action={"AssociateTrunkInterface": 1500})
    attach_pod_task.apply_async((world.cluster.pk, "default", "r0", uid), queue=workers.queue)
    worker = workers(1)
    deadline = time.monotonic() + 60
    while not BranchENI.objects.exclude(eni_id="").filter(
            state=BranchENIState.CREATING).exists():
        assert time.monotonic() < deadline, worker.tail()
        time.sleep(0.05)
    import os
    import signal

    [child] = worker.children()
    os.kill(child, signal.SIGKILL)  # reject_on_worker_lost: the message goes back at once
    ec2.control.configure(latency_ms_by_action={})
    done = wait_for_annotations(world, ["r0"], 60, [worker])
    check_invariants(world, done)


def test_concurrent_node_reconciles_create_one_trunk(cluster_world, workers, ec2):
    world = cluster_world
    world.add_node(0)
    ec2.control.configure(latency_ms_by_action={"CreateNetworkInterface": 300})
    from apps.controller.tasks import reconcile_node_task

    for _ in range(6):
        reconcile_node_task.apply_async((world.cluster.pk, "node-0"), queue=workers.queue)
    started = [workers(3), workers(3)]
    deadline = time.monotonic() + 60
    from apps.inventory.models import Node

    while not Node.objects.filter(name="node-0", managed=True).exists():
        assert time.monotonic() < deadline, "\n".join(w.tail() for w in started)
        time.sleep(0.2)
    time.sleep(2.0)  # the other deliveries finish (busy ones requeue and then find the trunk)
    trunks = world.ec2_seeder.describe_network_interfaces(Filters=[
        {"Name": "interface-type", "Values": ["trunk"]}])["NetworkInterfaces"]
    assert len(trunks) == 1
    node = world.core.read_node("node-0")
    assert node.status.capacity[POD_ENI] == "18"
    initiated = [r for _, r, _ in world.events("node-0") if r == "NodeTrunkInitiated"]
    assert len(initiated) == 1
