"""Where a pod attach's CPU goes, measured in one process (``bench_controller.py --breakdown``).

:func:`apps.controller.pod_attach.attach_pod` runs for each pod without Celery: the whole
production code path (database, EC2, Kubernetes, audit). While it runs, the port methods
that make the seven API requests of an attach (CreateNetworkInterface,
CreateNetworkInterfacePermission, AssociateTrunkInterface through boto3; GET pod, PATCH pod
and two event POSTs through the official ``kubernetes`` client) are timed too, so the figures
split one attach into "the client libraries" and "everything else", as they run together
(a call measured in a loop of its own looks cheaper: its code and data stay in the caches).

All figures are CPU time of the calling thread (the stand-ins run in other threads of the same
process and are not counted). EC2 limits and latency are off. Each figure comes from the round
with the lowest attach CPU of ``ROUNDS`` rounds (as ``timeit`` advises): the stand-ins share
the process, and the other rounds measure them as much as the code.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections import Counter
from collections.abc import Iterator

WARMUP = 10
ROUNDS = 3
# (port class name, method) -> the API request it makes
TIMED_CALLS = {
    ("EC2Port", "create_branch"): "CreateNetworkInterface",
    ("EC2Port", "grant_instance_attach"): "CreateNetworkInterfacePermission",
    ("EC2Port", "associate"): "AssociateTrunkInterface",
    ("ClusterPort", "get_pod"): "GET pod",
    ("ClusterPort", "annotate_pod"): "PATCH pod",
    ("ClusterPort", "emit_event"): "event POST",
}


@contextlib.contextmanager
def timed_ports(spent: Counter, calls: Counter) -> Iterator[None]:
    """Add each port call's thread CPU time to ``spent`` (and count it) while the block runs."""
    from apps.controller.ports.cluster import ClusterPort
    from apps.controller.ports.ec2 import EC2Port

    classes = {"EC2Port": EC2Port, "ClusterPort": ClusterPort}
    originals = []
    for (class_name, method), label in TIMED_CALLS.items():
        cls = classes[class_name]
        original = getattr(cls, method)

        @functools.wraps(original)
        def timed(*args, _original=original, _label=label, **kwargs):
            started = time.thread_time()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_label] += time.thread_time() - started
                calls[_label] += 1

        originals.append((cls, method, original))
        setattr(cls, method, timed)
    try:
        yield
    finally:
        for cls, method, original in originals:
            setattr(cls, method, original)


def run_breakdown(args, setup_world, create_pods) -> dict:
    from apps.controller.pod_attach import attach_pod
    from standins.ec2 import EC2Standin
    from standins.kubernetes import KubeStandin

    count = args.breakdown_calls
    rounds = []
    with EC2Standin() as ec2_standin, KubeStandin(request_log=50) as kube:
        cluster, core = setup_world(args, ec2_standin, kube.url)
        pods = create_pods(core, WARMUP + ROUNDS * count, args.nodes, prefix="breakdown")

        def attach(name: str, uid: str) -> None:
            outcome = attach_pod(cluster, "default", name, uid)
            if outcome.result != "attached":
                raise SystemExit(f"breakdown: {name} was {outcome}")

        for name, uid in pods[:WARMUP]:
            attach(name, uid)
        for first in range(WARMUP, WARMUP + ROUNDS * count, count):
            spent: Counter = Counter()
            calls: Counter = Counter()
            with timed_ports(spent, calls):
                started = time.thread_time()
                for name, uid in pods[first:first + count]:
                    attach(name, uid)
                total = time.thread_time() - started
            rounds.append((total, spent, calls))
    total, spent, calls = min(rounds, key=lambda r: r[0])
    attach_ms = total * 1000 / count
    clients_ms = sum(spent.values()) * 1000 / count
    return {
        "pods_per_round": count,
        "attach_in_process_ms": round(attach_ms, 2),
        "clients_per_pod_ms": round(clients_ms, 2),
        "rest_of_attach_ms": round(attach_ms - clients_ms, 2),
        "calls_per_pod": {label: round(calls[label] / count, 2) for label in calls},
        "client_call_ms": {label: round(spent[label] * 1000 / calls[label], 3)
                           for label in TIMED_CALLS.values() if calls[label]},
    }


def breakdown_markdown(result: dict) -> str:
    lines = [
        f"CPU per pod, in process (the lowest of {ROUNDS} rounds of "
        f"{result['pods_per_round']} attaches; EC2 limits and latency off):",
        "",
        "| part | CPU ms per pod |",
        "|---|---:|",
        f"| attach_pod, whole (no Celery) | {result['attach_in_process_ms']} |",
        f"| of which the API calls in the client libraries | {result['clients_per_pod_ms']} |",
        f"| of which everything else (database and audit rows, plan) "
        f"| {result['rest_of_attach_ms']} |",
        "",
        "| API call | calls per pod | CPU ms per call |",
        "|---|---:|---:|",
    ]
    lines += [f"| {label} | {result['calls_per_pod'][label]} | {ms} |"
              for label, ms in result["client_call_ms"].items()]
    return "\n".join(lines)
