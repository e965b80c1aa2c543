"""Benchmark of the controller's pod attach path (``make bench-controller``; not a test).

What it does, all on loopback (127.0.0.1):

1. (re)creates a scratch PostgreSQL database (``--database-url``, default
   ``postgres://postgres@127.0.0.1:5432/sgpadmin_bench``) and migrates it; Celery goes
   through Redis (``--redis-url``) on a private queue, so nothing else takes its tasks;
2. starts the EC2 stand-in (moto + trunking) and the Kubernetes stand-in in this process,
   seeds ``--nodes`` instances of ``--instance-type``, creates their Node objects and runs the
   node reconcile (trunks, capacity) with EC2 limits off;
3. switches the EC2 stand-in to the measured profile: ``aws`` = AWS's per-action token buckets
   (refilled full) and ``--latency-ms`` per call, with our client-side buckets on (Redis, 12/s
   burst 18 per bucket); ``off`` = no EC2 buckets, no latency, no client-side buckets;
4. creates ``--pods`` pods spread over the nodes, starts ``--workers`` real ``celery worker``
   processes (``--pool``, ``--concurrency`` each; by default one process with 16 threads, as
   ``python -m worker worker`` runs), enqueues one attach task per pod (what the watcher
   does on ADDED) and waits until every pod is annotated or ``--timeout`` passes; workers keep
   their database connections (``DATABASE_CONN_MAX_AGE=60``, as a production worker should);
5. reports pods/s until annotated (overall, and sustained after the first ``--burst-pods``),
   p50/p99 time from enqueue to annotation, EC2 calls per pod by action and outcome,
   user-visible failures (failure events + pods never annotated) and controller CPU (user +
   system time of the worker processes, idle baseline subtracted) per pod.

Usage: ``python benchmarks/bench_controller.py [--profile aws|off|both] [--write FILE]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FAILURE_REASONS = ("BranchAllocationFailed", "BranchENIAnnotationFailed")
TICKS = os.sysconf("SC_CLK_TCK")


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def group_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process, its reaped children and its live children."""
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += (utime + stime + cutime + cstime) / TICKS
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(group_cpu_seconds(int(child)) for child in children)


RUNNING: list[Workers] = []


def stop_everything(signum, frame) -> None:
    """SIGINT/SIGTERM: kill the worker process groups we started, then leave."""
    for workers in RUNNING:
        workers.stop()
    os._exit(128 + signum)


class Workers:
    def __init__(self, count: int, concurrency: int, queue: str, env: dict, log_dir: Path,
                 pool: str = "threads"):
        RUNNING.append(self)
        self.processes = []
        for index in range(count):
            log = open(log_dir / f"bench-worker-{index}.log", "wb")
            self.processes.append(subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "sgpadmin.celery", "worker", "-Q", queue,
                 "-c", str(concurrency), "-P", pool, "--without-gossip",
                 "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
                 "-n", f"bench{index}-{queue}@bench"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True))

    def cpu_seconds(self) -> float:
        return sum(group_cpu_seconds(p.pid) for p in self.processes)

    def stop(self) -> None:
        import signal

        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
        for process in self.processes:
            process.wait(10)
        if self in RUNNING:
            RUNNING.remove(self)


def setup_world(args, ec2_standin, kube_url: str):
    from kubernetes.client import ApiClient, Configuration, CoreV1Api

    from apps.controller.node_reconcile import reconcile_node
    from apps.inventory.models import Cluster
    from standins.ec2.seeding import seed_world

    seeded = seed_world(ec2_standin.seeder(), instance_types=[args.instance_type] * args.nodes)
    cluster = Cluster.objects.create(name="bench", vpc_id=seeded.vpc_id, kube_api_url=kube_url,
                                     ec2_endpoint_url=ec2_standin.endpoint_url)
    configuration = Configuration()
    configuration.host = kube_url
    core = CoreV1Api(ApiClient(configuration))
    for index, instance in enumerate(seeded.instances):
        core.create_node({"metadata": {"name": f"node-{index}", "labels": {
            "kubernetes.io/os": "linux", "vpc.amazonaws.com/has-trunk-attached": "false",
            "node.kubernetes.io/instance-type": args.instance_type}},
            "spec": {"providerID": f"aws:///us-west-2a/{instance.instance_id}"}})
        if not reconcile_node(cluster, f"node-{index}").managed:
            raise SystemExit(f"node-{index} did not become managed")
    return cluster, core


def create_pods(core, count: int, nodes: int, prefix: str = "pod") -> list[tuple[str, str]]:
    """``count`` pods requesting a branch ENI, spread over the nodes: (name, uid) each."""
    pods = []
    for index in range(count):
        body = {"metadata": {"name": f"{prefix}-{index}", "namespace": "default"},
                "spec": {"nodeName": f"node-{index % nodes}", "containers": [{
                    "name": "app", "image": "nginx", "resources": {
                        "requests": {"vpc.amazonaws.com/pod-eni": "1"},
                        "limits": {"vpc.amazonaws.com/pod-eni": "1"}}}]}}
        created = core.create_namespaced_pod("default", body)
        pods.append((created.metadata.name, created.metadata.uid))
    return pods


def fresh_database(args) -> None:
    from django.core.management import call_command
    from django.db import connections

    recreate_database(args.database_url)
    connections.close_all()
    call_command("migrate", verbosity=0)


def run_profile(args, profile: str) -> dict:
    from apps.controller.tasks import attach_pod_task
    from apps.inventory.models import Attachment
    from standins.ec2 import EC2Standin
    from standins.kubernetes import KubeStandin

    fresh_database(args)
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    # kmock keeps a log of served requests that every request scans: keep it short.
    with EC2Standin() as ec2_standin, KubeStandin(request_log=50) as kube:
        os.environ["SGPADMIN_EC2_QPS"] = "0"  # node setup is not what we measure
        cluster, core = setup_world(args, ec2_standin, kube.url)
        control = ec2_standin.control
        if profile == "aws":
            control.configure(throttle="aws", latency_ms=args.latency_ms)  # buckets refilled
        control.reset_counters()
        pods = create_pods(core, args.pods, args.nodes)
        env = {**os.environ, "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
               "SGPADMIN_MODE": "test", "PYTHONPATH": str(ROOT), "DATABASE_CONN_MAX_AGE": "60",
               "SGPADMIN_EC2_QPS": "12" if profile == "aws" else "0", "SGPADMIN_EC2_BURST": "18"}
        if profile == "aws":  # an empty client-side bucket to start, like a fresh controller
            import redis

            redis.Redis.from_url(args.redis_url).delete(
                *[k for k in redis.Redis.from_url(args.redis_url).keys("sgpadmin:ec2-bucket:*")]
                or ["-"])
        workers = Workers(args.workers, args.concurrency, queue, env, Path(args.log_dir),
                          args.pool)
        try:
            time.sleep(args.warmup)
            cpu_before = workers.cpu_seconds()
            started = time.time()
            for name, uid in pods:
                attach_pod_task.apply_async((cluster.pk, "default", name, uid), queue=queue)
            deadline = time.monotonic() + args.timeout
            while time.monotonic() < deadline:
                if Attachment.objects.filter(cluster=cluster).count() >= args.pods:
                    break
                time.sleep(0.5)
            time.sleep(1.0)  # let the last tasks finish their bookkeeping
            cpu_used = workers.cpu_seconds() - cpu_before
        finally:
            workers.stop()
        times = sorted((a.since.timestamp() - started)
                       for a in Attachment.objects.filter(cluster=cluster))
        events = core.list_namespaced_event("default").items
        failures = [e for e in events if e.reason in FAILURE_REASONS]
        counters = control.counters()["calls"]
    return summarise(args, profile, times, failures, counters, cpu_used)


def summarise(args, profile, times, failures, counters, cpu_used) -> dict:
    done = len(times)
    burst = min(args.burst_pods, max(done - 1, 0))
    sustained = ((done - burst) / (times[-1] - times[burst])
                 if done > burst + 1 and times[-1] > times[burst] else 0.0)
    per_pod = {action: {outcome: round(n / max(done, 1), 3) for outcome, n in by.items()}
               for action, by in sorted(counters.items())}
    return {
        "profile": profile, "pods": args.pods, "nodes": args.nodes,
        "instance_type": args.instance_type, "workers": args.workers,
        "concurrency": args.concurrency, "annotated": done,
        "never_annotated": args.pods - done, "failure_events": len(failures),
        "seconds_to_last": round(times[-1], 2) if times else None,
        "pods_per_second": round(done / times[-1], 2) if times else 0.0,
        "sustained_pods_per_second": round(sustained, 2),
        "p50_seconds": round(statistics.median(times), 2) if times else None,
        "p99_seconds": round(times[min(done - 1, int(done * 0.99))], 2) if times else None,
        "ec2_calls_per_pod": per_pod,
        "controller_cpu_ms_per_pod": round(cpu_used * 1000 / max(done, 1), 2),
        "failure_examples": [f"{e.reason}: {e.message}"[:300] for e in failures[:5]],
    }


def markdown(results: list[dict], command: str) -> str:
    lines = [
        "| profile | annotated | failures | pods/s overall | pods/s sustained | p50 s | p99 s "
        "| CPU ms/pod |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['profile']} | {r['annotated']}/{r['pods']} | "
            f"{r['failure_events'] + r['never_annotated']} | {r['pods_per_second']} | "
            f"{r['sustained_pods_per_second']} | {r['p50_seconds']} | {r['p99_seconds']} | "
            f"{r['controller_cpu_ms_per_pod']} |")
    lines.append("")
    for r in results:
        calls = ", ".join(f"{a} {o}" for a, o in r["ec2_calls_per_pod"].items())
        lines.append(f"- EC2 calls per pod ({r['profile']}): {calls}")
    lines += ["", f"Command: `{command}`", "",
              f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
              f"{platform.python_version()}."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=["aws", "off", "both", "none"], default="both")
    parser.add_argument("--breakdown", action="store_true",
                        help="also measure, in process, where an attach's CPU goes")
    parser.add_argument("--breakdown-calls", type=int, default=200)
    parser.add_argument("--pods", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--instance-type", default="m5.4xlarge")
    # The defaults are what `python -m worker worker` runs: one process, 16 threads.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pool", choices=["prefork", "threads"], default="threads",
                        help="Celery execution pool of each worker process")
    parser.add_argument("--latency-ms", type=int, default=150)
    parser.add_argument("--burst-pods", type=int, default=100,
                        help="annotations counted as the burst, before the sustained rate")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--warmup", type=float, default=4.0)
    parser.add_argument("--database-url",
                        default="postgres://postgres@127.0.0.1:5432/sgpadmin_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--log-dir", default=str(ROOT / "var"))
    parser.add_argument("--write", help="also write the Markdown table to this file")
    args = parser.parse_args()
    Path(args.log_dir).mkdir(parents=True, exist_ok=True)
    os.environ.update({"DJANGO_SETTINGS_MODULE": "sgpadmin.settings", "SGPADMIN_MODE": "test",
                       "DATABASE_URL": args.database_url, "REDIS_URL": args.redis_url,
                       "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-west-2"})
    import logging
    import signal

    import django

    django.setup()
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    signal.signal(signal.SIGINT, stop_everything)
    signal.signal(signal.SIGTERM, stop_everything)
    profiles = {"both": ["aws", "off"], "none": []}.get(args.profile, [args.profile])
    results = [run_profile(args, profile) for profile in profiles]
    print(json.dumps(results, indent=2))
    table = markdown(results, "python benchmarks/bench_controller.py " + " ".join(sys.argv[1:]))
    if args.breakdown:
        from controller_breakdown import breakdown_markdown, run_breakdown

        fresh_database(args)
        os.environ["SGPADMIN_EC2_QPS"] = "0"
        breakdown = run_breakdown(args, setup_world, create_pods)
        print(json.dumps(breakdown, indent=2))
        table += "\n\n" + breakdown_markdown(breakdown)
    print(table)
    if args.write:
        Path(args.write).write_text(table + "\n")
    failed = any(r["failure_events"] or r["never_annotated"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
