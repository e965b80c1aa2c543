"""The soak's driver (see ``benchmarks/soak.py`` for what it does and its options).

It runs in its own process: Django is set up here against the scratch database and the
private Redis, after the environment is in place.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POD_ENI = "vpc.amazonaws.com/pod-eni"
EXPLAINED = ("BranchAllocationFailed", "BranchENIAnnotationFailed", "BranchENINotFound")


def _send(task, *args, lost: Counter) -> bool:
    """Enqueue, riding out a broker restart (bounded)."""
    for _ in range(100):
        try:
            task.apply_async(args)
            return True
        except Exception:
            time.sleep(0.2)
    lost[task.name] += 1
    return False


def gc_summary(cluster) -> dict:
    """Per GC run kind: runs, ENIs found, ENIs deleted, runs with an error."""
    from django.db.models import Count, Q, Sum

    from apps.controller.models import GCRun

    rows = GCRun.objects.filter(cluster=cluster).values("kind").annotate(
        runs=Count("id"), found=Sum("found"), deleted=Sum("deleted"),
        errors=Count("id", filter=~Q(error="")))
    return {r["kind"]: {k: r[k] for k in ("runs", "found", "deleted", "errors")} for r in rows}


class Workload:
    """Pods coming and going: created, annotated, then deleted (some early, some finished)."""

    def __init__(self, world, rng: random.Random, nodes: int) -> None:
        self.world, self.rng, self.nodes = world, rng, nodes
        self.pods: dict[str, dict] = {}
        self.created = self.completed = self.gave_up = 0
        self.latencies: list[float] = []

    def create(self, *, plan: str | None = None) -> str:
        name = f"soak-{self.created:05d}"
        web = self.rng.random() < 0.5
        self.world.add_pod(name, self.rng.randrange(self.nodes), labels={"app": "web" if web
                                                                           else "other"})
        roll = self.rng.random()
        plan = plan or ("early" if roll < 0.15 else "finish" if roll < 0.3 else "delete")
        now = time.monotonic()
        self.pods[name] = {"created": now, "plan": plan, "annotated": None,
                           "act_at": now + self.rng.uniform(0, 1.5) if plan == "early" else None,
                           "finished": False}
        self.created += 1
        return name

    def observe(self) -> dict[str, dict]:
        items = self.world.core.api_client.sanitize_for_serialization(
            self.world.core.list_namespaced_pod("default")).get("items", [])
        return {p["metadata"]["name"]: p for p in items}

    def step(self, seen: dict[str, dict], attach_timeout: float) -> None:
        now = time.monotonic()
        for name, pod in list(self.pods.items()):
            obj = seen.get(name)
            if obj is None:
                continue
            if pod["annotated"] is None and POD_ENI in (obj["metadata"].get("annotations") or {}):
                pod["annotated"] = now
                self.latencies.append(now - pod["created"])
                if pod["act_at"] is None:
                    pod["act_at"] = now + self.rng.uniform(0.2, 2.0)
            if pod["plan"] == "keep":
                continue
            if pod["annotated"] is None and now - pod["created"] > attach_timeout:
                self.gave_up += 1
                pod["act_at"] = now
            if pod["act_at"] is None or now < pod["act_at"]:
                continue
            if pod["plan"] == "finish" and not pod["finished"] and pod["annotated"]:
                self.world.core.patch_namespaced_pod_status(
                    name, "default", {"status": {"phase": "Succeeded"}})
                pod["finished"], pod["act_at"] = True, now + 3.0
                continue
            self.world.core.delete_namespaced_pod(name, "default")
            del self.pods[name]
            self.completed += 1

    def live(self) -> int:
        return sum(1 for p in self.pods.values() if p["plan"] != "keep")


class Stack:
    """Everything the soak starts, stopped in reverse order whatever happens."""

    def __init__(self) -> None:
        self.redis = self.workers = self.ec2 = self.kube = self.stop_watch = None

    def close(self) -> None:
        if self.stop_watch is not None:
            self.stop_watch.set()
        if self.workers is not None:
            self.workers.stop_all()
        if self.redis is not None:
            self.redis.stop()
        for standin in (self.ec2, self.kube):
            if standin is not None:
                try:
                    standin.stop()
                except Exception:  # a stand-in that failed to stop must not hide the report
                    pass


def run_soak(args) -> dict:
    from benchmarks.bench_controller import recreate_database
    from benchmarks.soak import RedisServer, environment, free_port

    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    stack = Stack()
    try:
        stack.redis = RedisServer(free_port(), log_dir).start()
        env = environment(args, stack.redis.url, log_dir / "var")
        os.environ.update(env)
        recreate_database(args.database_url)
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                       cwd=ROOT, env=env, check=True, timeout=300)
        import django

        django.setup()
        return Scenario(args, stack, env, log_dir).run()
    finally:
        stack.close()


class Scenario:
    def __init__(self, args, stack: Stack, env: dict, log_dir: Path) -> None:
        self.args, self.stack, self.env, self.log_dir = args, stack, env, log_dir
        self.rng = random.Random(args.seed)
        self.lost: Counter = Counter()
        self.redis_restarts = 0
        self.timeline: list[tuple[float, str]] = []

    # -- setup -------------------------------------------------------------------------------
    def setup(self) -> None:
        from apps.controller.node_reconcile import reconcile_node
        from apps.inventory.models import Cluster
        from apps.policies.models import Policy
        from standins.ec2 import EC2Standin
        from standins.kubernetes import KubeStandin
        from tests.controller.world import build_world

        self.stack.ec2 = EC2Standin()
        self.stack.ec2.start()
        self.stack.kube = KubeStandin().start()
        self.world = build_world(Cluster, self.stack.ec2, self.stack.kube.url, name="soak",
                                 instance_types=("m5.large",) * self.args.nodes)
        cluster = self.world.cluster
        cluster.branch_cooldown_seconds = self.args.cooldown  # below 30: the soak's floor is 0
        cluster.save()
        Policy.objects.create(cluster=cluster, namespace="default", name="web", spec={
            "podSelector": {"matchLabels": {"app": "web"}},
            "securityGroups": {"groupIds": [self.world.group_ids["web"]]}})
        for index in range(self.args.nodes):
            self.world.add_node(index)
            reconcile_node(cluster, self.world.node_name(index))

    def faults(self, rate: float) -> None:
        share = rate / 2
        self.stack.ec2.control.configure(seed=self.args.seed, faults=[
            {"actions": ["*"], "rate": share * 0.8, "code": "InternalError", "status": 500},
            {"actions": ["*"], "rate": share, "code": "RequestLimitExceeded", "status": 503},
            {"actions": ["*"], "rate": share * 0.2, "code": "InternalError", "status": 500,
             "when": "after"},
        ] if rate else [])

    def start_watcher(self) -> None:
        from apps.controller.inventory_sync import PodRelease, PodWork
        from apps.controller.tasks import attach_pod_task
        from apps.controller.tasks_lifecycle import release_pod
        from apps.controller.watcher import start_watchers

        def enqueue(cluster_id, work) -> None:
            if isinstance(work, PodRelease):
                _send(release_pod, cluster_id, work.uid, lost=self.lost)
            elif isinstance(work, PodWork):
                _send(attach_pod_task, cluster_id, work.namespace, work.name, work.uid,
                      lost=self.lost)

        self.stack.stop_watch, _ = start_watchers([self.world.cluster], enqueue=enqueue,
                                                  kinds=("Pod",), watch_timeout=30)

    # -- playing beat ------------------------------------------------------------------------
    def beat(self, now: float, due: dict) -> None:
        from apps.controller import tasks_lifecycle as tasks

        for name, every, task, args in (
                ("release", 2.0, tasks.tick_release, ()),
                ("leaks", 10.0, tasks.tick_leak_checks, ()),
                ("sweeps", 10.0, tasks.tick_sweeps, ()),
                ("resync", 30.0, tasks.resync_all, ())):
            if now >= due.get(name, 0):
                _send(task, *args, lost=self.lost)
                due[name] = now + every

    def restart_redis(self) -> None:
        self.stack.redis.stop()
        time.sleep(1.0)
        self.stack.redis.start()
        self.redis_restarts += 1
        self.timeline.append((time.monotonic() - self.started, "redis restarted"))

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> dict:
        from benchmarks.soak import Workers

        self.started = time.monotonic()
        self.setup()
        self.faults(self.args.fault_rate)
        self.stack.ec2.control.reset_counters()
        self.stack.workers = Workers(self.args.workers, self.args.concurrency, self.env,
                                     self.log_dir)
        self.stack.workers.start_all()
        self.start_watcher()
        load = Workload(self.world, self.rng, self.args.nodes)
        deadline = self.started + self.args.timeout
        due: dict = {}
        next_kill = time.monotonic() + self.rng.uniform(0.5, 1.5) * self.args.kill_every
        while load.completed < self.args.cycles and time.monotonic() < deadline:
            now = time.monotonic()
            while load.live() < self.args.live and load.created < self.args.cycles:
                load.create()
            load.step(load.observe(), attach_timeout=60.0)
            self.beat(now, due)
            self.stack.workers.revive()
            if now >= next_kill:
                self.stack.workers.kill_random(self.rng)
                self.timeline.append((now - self.started, "worker killed"))
                next_kill = now + self.rng.uniform(0.5, 1.5) * self.args.kill_every
            if not self.redis_restarts and load.completed >= self.args.cycles // 2:
                self.restart_redis()
            time.sleep(0.3)
        chaos_seconds = time.monotonic() - self.started
        settle = self.settle(load)
        from tests.controller_lifecycle.soak_checks import check_world

        report = check_world(self.world, self.stack.ec2)
        report.update(settle)
        report.update({
            "cycles_requested": self.args.cycles, "cycles_completed": load.completed,
            "pods_created": load.created, "gave_up_waiting": load.gave_up,
            "attach_seconds_p50": round(statistics.median(load.latencies), 3)
            if load.latencies else None,
            "attach_seconds_max": round(max(load.latencies), 3) if load.latencies else None,
            "worker_kills": self.stack.workers.kills, "redis_restarts": self.redis_restarts,
            "worker_exits_restarted": self.stack.workers.exits,
            "sends_lost": dict(self.lost), "chaos_seconds": round(chaos_seconds, 1),
            "total_seconds": round(time.monotonic() - self.started, 1),
            "ec2_injected": self.stack.ec2.control.counters().get("injected", {}),
            "gc_runs": gc_summary(self.world.cluster),
        })
        report["ok"] = report["ok"] and load.completed >= self.args.cycles
        return report

    def settle(self, load: Workload) -> dict:
        """Last wave stays (two of it finish); faults stop; run until quiet, then sweep twice."""
        from apps.controller import gc
        from apps.inventory.models import BranchENI, BranchENIState

        self.faults(0)
        finishing = [load.create(plan="keep") for _ in range(2)]
        for _ in range(self.args.final):
            load.create(plan="keep")
        started = time.monotonic()
        due: dict = {}
        finished = False
        quiet = False
        cluster = self.world.cluster
        while time.monotonic() - started < self.args.settle_timeout:
            now = time.monotonic()
            seen = load.observe()
            load.step(seen, attach_timeout=3600)
            self.beat(now, due)
            self.stack.workers.revive()
            annotated = {n for n, p in seen.items()
                         if POD_ENI in (p["metadata"].get("annotations") or {})}
            if not finished and all(n in annotated for n in finishing):
                for name in finishing:
                    self.world.core.patch_namespaced_pod_status(
                        name, "default", {"status": {"phase": "Succeeded"}})
                finished = True
            if finished and now >= due.get("leak-now", 0):
                for index in range(self.args.nodes):  # forced: the pod path ignores them
                    gc.check_node_for_leaks(cluster, self.world.node_name(index))
                due["leak-now"] = now + 5.0
            busy = BranchENI.objects.filter(cluster=cluster, state__in=[
                BranchENIState.CREATING, BranchENIState.COOLING, BranchENIState.DELETING])
            waiting = [n for n, p in load.pods.items() if n not in finishing
                       and n in seen and n not in annotated]
            if finished and not waiting and not busy.exists():
                quiet = True
                break
            time.sleep(0.5)
        sweeps = [gc.sweep_cluster(cluster) for _ in range(2)]
        return {"settled": quiet, "settle_seconds": round(time.monotonic() - started, 1),
                "sweep_deleted": sum(s.deleted for s in sweeps),
                "sweep_errors": [s.error for s in sweeps if s.error]}
