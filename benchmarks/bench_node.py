"""Node agent benchmark: CNI ADD and DEL of N branch pods on one node (default 100).

Needs root (network namespaces). Builds the netns lab of tests/node_agent (node, VPC fabric,
RDS), a kmock Kubernetes API with N annotated pods, and measures:

1. end to end, as a container runtime sees it: the ``sgp-cni`` plugin as ``sgp-node-agent
   install-cni`` writes it (the fast client under ``python -IS``) run as a subprocess, one
   unix-socket round trip to a running ``sgp-node-agent`` process, which reads the pod from the
   API and plumbs it (DEL: removes rules and routes, renames the branch link and replies; the
   link is deleted in the background);
2. the same calls over the daemon's socket from the benchmark process (no process start), the
   plugin's start-up alone (a VERSION call through the daemon; also for the ``sgp-cni`` console
   script, which starts with ``site``), and a paired run where pods alternate between the two
   ways so that both see the same load;
3. in process: the daemon's own work per call (pod cache + plan + netlink), without socket;
4. the pure plan alone.

After each DEL phase the benchmark waits for the daemon's background link deletions (the
socket's SETTLE request), times that wait, and fails if any branch link is left.

Usage: sudo .venv/bin/python benchmarks/bench_node.py [--pods 100] [--mode strict]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "node_agent"))

from harness import BIN, InProcessNode, Node, annotation, netconf  # noqa: E402
from kube_emulator import EmulatedKubernetes  # noqa: E402
from lab import RDS_IP, RDS_PORT, Lab, connect, sh  # noqa: E402
from sgp_node_agent.cni_client import SETTLE_VERB, cni_request, exchange  # noqa: E402
from sgp_node_agent.kube import PodCache, PodSource  # noqa: E402
from sgp_node_agent.netconf import parse_environment, parse_netconf  # noqa: E402
from sgp_node_agent.plan import PodInputs, plan_pod  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(values: list[float]) -> dict:
    ms = [v * 1000 for v in values]
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
    }


def pod_specs(count: int) -> list[dict]:
    specs = []
    for index in range(count):
        vlan_id = index + 1
        ip = f"10.0.1.{10 + index}"
        mac = f"02:00:00:01:{vlan_id >> 8:02x}:{vlan_id & 0xFF:02x}"
        specs.append(
            {
                "name": f"bench-{index:03d}",
                "vlan_id": vlan_id,
                "ip": ip,
                "mac": mac,
                "uid": str(uuid.uuid4()),
            }
        )
    return specs


def cni_env(command: str, container_id: str, netns: str, spec: dict, namespace: str) -> dict:
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": container_id,
        "CNI_NETNS": netns,
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": f"K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={spec['name']};K8S_POD_UID={spec['uid']}",
    }


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_plugin_calls(node: Node, command: str, specs, namespace, results: dict,
                       seconds: list, plugin_cpu: list) -> None:
    """Run ``command`` through the installed plugin for every pod, as a runtime would; append
    each call's wall time and the plugin process's CPU; keep ADD results for the DELs."""
    for spec in specs:
        before = child_cpu()
        started = time.perf_counter()
        code, out = node.cni(
            command,
            f"sub-{spec['name']}",
            spec["netns"],
            (namespace, spec["name"], spec["uid"]),
            prev_result=results.get(spec["name"]),
            in_node=False,
        )
        seconds.append(time.perf_counter() - started)
        plugin_cpu.append(child_cpu() - before)
        if code != 0:
            raise SystemExit(f"{command} failed: {out}")
        if command == "ADD":
            results[spec["name"]] = out


def run_subprocess_phase(
    lab, node: Node, specs, namespace, cpu: dict
) -> tuple[list[float], list[float]]:
    adds, dels, results = [], [], {}
    plugin_cpu = {"add": [], "del": []}
    daemon_start = process_cpu(node.process.pid)
    timed_plugin_calls(node, "ADD", specs, namespace, results, adds, plugin_cpu["add"])
    daemon_add = process_cpu(node.process.pid) - daemon_start
    probe = specs[len(specs) // 2]
    if connect(probe["netns"], RDS_IP, RDS_PORT) != probe["ip"]:
        raise SystemExit("a benchmarked pod could not reach RDS")
    daemon_start = process_cpu(node.process.pid)
    timed_plugin_calls(node, "DEL", specs, namespace, results, dels, plugin_cpu["del"])
    daemon_del = process_cpu(node.process.pid) - daemon_start
    cpu["plugin_add_cpu_p50_ms"] = round(statistics.median(plugin_cpu["add"]) * 1000, 2)
    cpu["plugin_del_cpu_p50_ms"] = round(statistics.median(plugin_cpu["del"]) * 1000, 2)
    cpu["daemon_add_cpu_mean_ms"] = round(daemon_add / len(specs) * 1000, 2)
    cpu["daemon_del_cpu_mean_ms"] = round(daemon_del / len(specs) * 1000, 2)
    return adds, dels


def run_in_process_phase(
    node: InProcessNode, specs, namespace, mode
) -> tuple[list[float], list[float]]:
    service = node.agent.service
    adds, dels, results = [], [], {}
    config = {"cniVersion": "1.0.0", "name": "sgp", "type": "sgp-cni",
              "podSGEnforcingMode": mode, "branchLinkKind": "macvlan"}
    for spec in specs:
        env = cni_env("ADD", f"inp-{spec['name']}", spec["netns"], spec, namespace)
        started = time.perf_counter()
        results[spec["name"]] = service.add(parse_environment(env), parse_netconf(config))
        adds.append(time.perf_counter() - started)
    for spec in specs:
        env = cni_env("DEL", f"inp-{spec['name']}", spec["netns"], spec, namespace)
        with_prev = {**config, "prevResult": results[spec["name"]]}
        started = time.perf_counter()
        service.delete(parse_environment(env), parse_netconf(with_prev))
        dels.append(time.perf_counter() - started)
    return adds, dels


def call_socket(node: Node, env: dict, config: dict) -> tuple[int, dict | None]:
    """One CNI call over the daemon's socket from this process, as the plugin sends it."""
    status, output = exchange(node.socket, cni_request(env, json.dumps(config).encode()))
    return status, (json.loads(output) if output.strip() else None)


def settle_and_check(lab, node: Node | None, figures: dict, phase: str) -> None:
    """Wait for the daemon's background link deletions, then fail if any branch link is left."""
    started = time.perf_counter()
    if node is not None:
        status, output = exchange(node.socket, SETTLE_VERB)
        if status != 0:
            raise SystemExit(f"SETTLE failed: {output!r}")
    figures.setdefault("settle_ms", {})[phase] = round((time.perf_counter() - started) * 1000, 2)
    links = sh("ip", "-n", lab.node, "-br", "link").splitlines()
    leftover = [line for line in links if "vlan.eth." in line or "vlan.del." in line]
    if leftover:
        raise SystemExit(f"DEL left links behind: {leftover}")


def fresh_sandboxes(lab, specs, prefix: str) -> None:
    """The runtime destroys each sandbox after DEL; the next phase gets new ones."""
    for spec in specs:
        short = spec["netns"].rsplit("/", 1)[1]
        sh("ip", "netns", "del", short)
        lab.namespaces.remove(short)
        spec["netns"] = lab.pod_netns(f"{prefix}{spec['vlan_id']}")


def run_socket_phase(node: Node, specs, namespace, mode) -> tuple[list[float], list[float]]:
    """The same calls over the daemon's socket from this (already running) process: the
    end-to-end time minus the plugin's process start-up."""
    adds, dels, results = [], [], {}
    base = netconf(mode, node.socket, node.state_dir)
    for command, times in (("ADD", adds), ("DEL", dels)):
        for spec in specs:
            config = dict(base)
            if command == "DEL":
                config["prevResult"] = results[spec["name"]]
            env = cni_env(command, f"sock-{spec['name']}", spec["netns"], spec, namespace)
            started = time.perf_counter()
            code, out = call_socket(node, env, config)
            times.append(time.perf_counter() - started)
            if code != 0:
                raise SystemExit(f"{command} failed: {out}")
            results[spec["name"]] = out
    return adds, dels


def run_paired_phase(node: Node, specs, namespace, mode) -> dict:
    """Pods alternate between the socket client and an sgp-cni process, so both ways see the
    same load; the difference is the plugin's process cost."""
    base = netconf(mode, node.socket, node.state_dir)
    times: dict = {"ADD": {"socket": [], "subprocess": []}, "DEL": {"socket": [], "subprocess": []}}
    results = {}
    for command in ("ADD", "DEL"):
        for index, spec in enumerate(specs):
            container_id = f"pair-{spec['name']}"
            pod = (namespace, spec["name"], spec["uid"])
            prev = results.get(spec["name"]) if command == "DEL" else None
            started = time.perf_counter()
            if index % 2 == 0:
                config = dict(base, **({"prevResult": prev} if prev else {}))
                env = cni_env(command, container_id, spec["netns"], spec, namespace)
                code, out = call_socket(node, env, config)
                way = "socket"
            else:
                code, out = node.cni(
                    command, container_id, spec["netns"], pod, prev_result=prev, in_node=False
                )
                way = "subprocess"
            times[command][way].append(time.perf_counter() - started)
            if code != 0:
                raise SystemExit(f"{command} failed: {out}")
            results[spec["name"]] = out
    return {
        f"{command.lower()}_{way}": summary(values)
        for command, ways in times.items()
        for way, values in ways.items()
    }


def plugin_startup(plugin: str, socket_path: str, count: int) -> list[float]:
    """VERSION through the daemon: the plugin's process start-up plus one tiny round trip."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(
            [plugin],
            input=json.dumps({"cniVersion": "1.0.0", "agentSocket": socket_path}),
            env={"CNI_COMMAND": "VERSION", "PATH": os.environ.get("PATH", "")},
            capture_output=True,
            text=True,
            check=True,
        )
        times.append(time.perf_counter() - started)
    return times


def plan_only(specs, mode) -> list[float]:
    from sgp_node_agent.annotation import parse_pod_eni

    times = []
    for spec in specs:
        started = time.perf_counter()
        branch = parse_pod_eni(annotation(spec["vlan_id"], spec["mac"], spec["ip"]))
        plan_pod(
            PodInputs(
                "default",
                spec["name"],
                "eth0",
                mode,
                9001,
                "eni",
                "macvlan",
                branch,
                "02:aa:bb:cc:dd:ee",
                "eth1",
            )
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--mode", choices=["strict", "standard"], default="strict")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("bench-node needs root (network namespaces)", file=sys.stderr)
        return 2
    if not 1 <= args.pods <= 150:
        print("--pods must be 1..150 (VLAN ids 1..N, pod IPs in one /24)", file=sys.stderr)
        return 2
    # Bytecode as a pip install leaves it (this environment may set PYTHONDONTWRITEBYTECODE, and
    # an editable install would otherwise compile the plugin from source on every call).
    import compileall

    import sgp_node_agent

    compileall.compile_dir(str(Path(sgp_node_agent.__file__).parent), quiet=1)
    lab = Lab().up()
    kube = EmulatedKubernetes().start()
    workdir = Path(tempfile.mkdtemp(prefix="sgp-bench-node-"))
    namespace = f"bench-{lab.tag}"
    specs = pod_specs(args.pods)
    figures = {"pods": args.pods, "mode": args.mode}
    node = None
    try:
        for spec in specs:
            kube.create_pod(
                namespace,
                spec["name"],
                lab.node,
                annotation(spec["vlan_id"], spec["mac"], spec["ip"]),
                uid=spec["uid"],
            )
            lab.register_branch(spec["mac"], spec["ip"])
            spec["netns"] = lab.pod_netns(f"p{spec['vlan_id']}")
        kubeconfig = kube.write_kubeconfig(workdir / "kubeconfig")

        node = Node(lab, workdir, kubeconfig, args.mode, True).start()
        cpu: dict = {}
        adds, dels = run_subprocess_phase(lab, node, specs, namespace, cpu)
        figures["cpu"] = cpu
        figures["subprocess"] = {"add": summary(adds), "del": summary(dels)}
        settle_and_check(lab, node, figures, "subprocess")

        fresh_sandboxes(lab, specs, "s")
        adds, dels = run_socket_phase(node, specs, namespace, args.mode)
        figures["socket"] = {"add": summary(adds), "del": summary(dels)}
        settle_and_check(lab, node, figures, "socket")
        figures["startup"] = summary(plugin_startup(node.plugin, node.socket, 30))
        figures["startup_console_script"] = summary(
            plugin_startup(str(BIN / "sgp-cni"), node.socket, 30)
        )
        fresh_sandboxes(lab, specs, "t")
        figures["paired"] = run_paired_phase(node, specs, namespace, args.mode)
        settle_and_check(lab, node, figures, "paired")
        node.stop()

        fresh_sandboxes(lab, specs, "q")
        api = kube.api_client()
        cache = PodCache(api, lab.node).start()
        cache.synced.wait(10)
        node = InProcessNode(
            lab, workdir, kubeconfig, args.mode, True, pod_source=PodSource(api, cache=cache)
        )
        node.start()
        adds, dels = run_in_process_phase(node, specs, namespace, args.mode)
        settle_and_check(lab, node, figures, "in_process")
        node.stop()
        cache.stop()
        node = None
        figures["in_process"] = {"add": summary(adds), "del": summary(dels)}
        figures["plan_only"] = summary(plan_only(specs, args.mode))
    finally:
        if node is not None:
            node.stop()
        kube.stop()
        lab.down()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"sgp node agent, {args.pods} pods, {args.mode} mode (milliseconds)")
    print(f"{'':34} {'p50':>8} {'p99':>8} {'max':>8}")
    rows = [
        ("ADD  sgp-cni subprocess (e2e)", figures["subprocess"]["add"]),
        ("DEL  sgp-cni subprocess (e2e)", figures["subprocess"]["del"]),
        ("ADD  socket client, no process start", figures["socket"]["add"]),
        ("DEL  socket client, no process start", figures["socket"]["del"]),
        ("sgp-cni VERSION (process start-up)", figures["startup"]),
        ("console script VERSION (with site)", figures["startup_console_script"]),
        ("ADD  in-process (cache+plan+netlink)", figures["in_process"]["add"]),
        ("DEL  in-process (plan+netlink)", figures["in_process"]["del"]),
        ("plan only (parse + plan_pod)", figures["plan_only"]),
    ]
    for label, row in rows:
        print(f"{label:34} {row['p50_ms']:8.2f} {row['p99_ms']:8.2f} {row['max_ms']:8.2f}")
    paired = figures["paired"]
    print(
        "paired (alternating pods, p50): ADD socket {} / sgp-cni {}; DEL socket {} / sgp-cni {}".format(
            paired["add_socket"]["p50_ms"],
            paired["add_subprocess"]["p50_ms"],
            paired["del_socket"]["p50_ms"],
            paired["del_subprocess"]["p50_ms"],
        )
    )
    print(
        "CPU per call: plugin ADD p50 {plugin_add_cpu_p50_ms} ms, DEL p50 {plugin_del_cpu_p50_ms} ms; "
        "daemon ADD mean {daemon_add_cpu_mean_ms} ms, DEL mean {daemon_del_cpu_mean_ms} ms".format(
            **figures["cpu"]
        )
    )
    print(
        "waiting for the background link deletions after the last DEL (SETTLE), ms: "
        + ", ".join(f"{phase} {ms}" for phase, ms in figures["settle_ms"].items())
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    figures["loadavg"] = os.getloadavg()[0]
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
