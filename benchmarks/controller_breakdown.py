"""Where a pod attach's CPU goes, measured in one process (``bench_controller.py --breakdown``).

Two figures, both in CPU time of the calling thread (the stand-ins run in other threads of the
same process and are not counted):

* **attach in process**: :func:`apps.controller.pod_attach.attach_pod` per pod, the whole
  production code path without Celery (database, EC2, Kubernetes, audit);
* **client calls**: each of the seven API requests one attach makes, through the production
  ports (boto3 and the official ``kubernetes`` client): CreateNetworkInterface,
  CreateNetworkInterfacePermission, AssociateTrunkInterface, GET pod, PATCH pod, and two event
  POSTs. Their sum is what the client libraries alone cost per pod, whatever the controller
  around them does.

EC2 limits and latency are off; the figures are CPU, not wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

WARMUP = 10


def cpu_ms_per_call(call: Callable[[int], object], count: int) -> float:
    for index in range(WARMUP):
        call(index)
    started = time.thread_time()
    for index in range(WARMUP, WARMUP + count):
        call(index)
    return (time.thread_time() - started) * 1000 / count


def run_breakdown(args, setup_world, create_pods) -> dict:
    from apps.controller.core.model import Event, EventType
    from apps.controller.node_reconcile import ec2_port_for
    from apps.controller.pod_attach import attach_pod
    from apps.controller.ports.cluster import ClusterPort
    from apps.inventory.models import Node
    from standins.ec2 import EC2Standin
    from standins.kubernetes import KubeStandin

    count = args.breakdown_calls
    with EC2Standin() as ec2_standin, KubeStandin(request_log=50) as kube:
        cluster, core = setup_world(args, ec2_standin, kube.url)
        pods = create_pods(core, count + WARMUP, args.nodes, prefix="breakdown")

        def attach(index: int) -> None:
            outcome = attach_pod(cluster, "default", *pods[index])
            if outcome.result != "attached":
                raise SystemExit(f"breakdown: {pods[index][0]} was {outcome}")

        attach_ms = cpu_ms_per_call(attach, count)

        ec2 = ec2_port_for(cluster)
        node = Node.objects.select_related("trunk").get(cluster=cluster, name="node-0")
        groups = list(node.security_group_ids)
        created: list[str] = []

        def create(index: int) -> None:
            eni = ec2.create_branch(node.subnet_id, groups, node.instance_id, cluster.name,
                                    node.trunk.eni_id, 1000 + index)
            created.append(eni.eni_id)

        def grant(index: int) -> None:
            ec2.grant_instance_attach(created[index], node.account_id)

        def associate(index: int) -> None:
            ec2.associate(created[index], node.trunk.eni_id, 1000 + index)

        port = ClusterPort(cluster)
        name = pods[0][0]
        live = port.get_pod("default", name)

        def patch(index: int) -> None:
            current = port.get_pod("default", name)
            meta = current["metadata"]
            started = time.thread_time()
            port.annotate_pod("default", name, meta["uid"], meta["resourceVersion"],
                              "example.com/breakdown", str(index))
            patch_cpu.append(time.thread_time() - started)

        patch_cpu: list[float] = []
        calls = {
            "CreateNetworkInterface": cpu_ms_per_call(create, count),
            "CreateNetworkInterfacePermission": cpu_ms_per_call(grant, count),
            "AssociateTrunkInterface": cpu_ms_per_call(associate, count),
            "GET pod": cpu_ms_per_call(lambda _: port.get_pod("default", name), count),
            "event POST": cpu_ms_per_call(lambda _: port.emit_event(
                "Pod", live, Event(EventType.NORMAL, "Breakdown", "measuring")), count),
        }
        cpu_ms_per_call(patch, count)
        calls["PATCH pod"] = sum(patch_cpu[WARMUP:]) * 1000 / count
    per_pod = {**calls, "event POST": calls["event POST"] * 2}  # two events per attach
    clients = sum(per_pod.values())
    return {
        "calls": count,
        "attach_in_process_ms": round(attach_ms, 2),
        "client_call_ms": {key: round(value, 3) for key, value in calls.items()},
        "clients_per_pod_ms": round(clients, 2),
        "rest_of_attach_ms": round(attach_ms - clients, 2),
    }


def breakdown_markdown(result: dict) -> str:
    lines = [
        f"CPU per pod, in process ({result['calls']} calls each, EC2 limits and latency off):",
        "",
        "| part | CPU ms |",
        "|---|---:|",
        f"| attach_pod, whole (no Celery) | {result['attach_in_process_ms']} |",
        f"| of which the 7 API calls (client libraries) | {result['clients_per_pod_ms']} |",
        f"| of which the rest (database, audit, plan) | {result['rest_of_attach_ms']} |",
        "",
        "| API call | CPU ms per call |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {ms} |" for name, ms in result["client_call_ms"].items()]
    return "\n".join(lines)
