"""Running the node agent on a lab node: ``sgp-node-agent run`` in the node's namespace,
and ``sgp-cni`` called the way a container runtime calls it. The demo and the end-to-end
test share it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .processes import stop_process
from .tutorial import VPC_CIDR

BIN = Path(sys.executable).parent


class NodeAgent:
    """``sgp-node-agent run`` for the lab node, and ``sgp-cni`` called as a runtime does."""

    def __init__(
        self,
        node,
        node_name: str,
        kubeconfig: Path,
        workdir: Path,
        report_url: str = "",
        report_token: str = "",
        report_interval: float = 3600,
    ):
        self.node, self.workdir = node, workdir
        self.socket = str(workdir / "cni.sock")
        self.env = {
            **os.environ,
            "SGP_NODE_NAME": node_name,
            "SGP_HOST_NETNS": f"/var/run/netns/{node.netns}",
            "SGP_TRUNK_INTERFACE": "eth1",
            "SGP_PRIMARY_INTERFACE": "eth0",
            "POD_SECURITY_GROUP_ENFORCING_MODE": "strict",
            "DISABLE_TCP_EARLY_DEMUX": "true",
            "SGP_VPC_CIDRS": VPC_CIDR,
            "SGP_AGENT_SOCKET": self.socket,
            "SGP_STATE_DIR": str(workdir / "pods"),
            "SGP_HOST_STATE_FILE": str(workdir / "host.json"),
            "SGP_ANNOTATION_TIMEOUT": "5",
            "SGP_REPORT_INTERVAL": str(report_interval),
            "SGP_REPORT_URL": report_url,
            "SGP_REPORT_TOKEN": report_token,
            "KUBECONFIG": str(kubeconfig),
        }
        self.process = None

    def start(self):
        self.log = open(self.workdir / "agent.log", "w")
        self.process = subprocess.Popen(
            [str(BIN / "sgp-node-agent"), "run"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the node agent did not start: "
                    + (self.workdir / "agent.log").read_text()[-2000:]
                )
            time.sleep(0.05)
        return self

    def stop(self):
        stop_process(self.process)
        self.log.close()

    def cni(self, command, container_id, netns, pod, prev_result=None):
        config = {
            "cniVersion": "1.0.0",
            "name": "sgp",
            "type": "sgp-cni",
            "podSGEnforcingMode": "strict",
            "mtu": 9001,
            "vethPrefix": "eni",
            "branchLinkKind": "macvlan",  # this kernel has no 802.1Q (DESIGN §5)
            "agentSocket": self.socket,
        }
        if prev_result is not None:
            config["prevResult"] = prev_result
        env = {
            "PATH": os.environ.get("PATH", ""),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": f"/var/run/netns/{netns}",
            "CNI_IFNAME": "eth0",
            "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod['metadata']['namespace']};"
            f"K8S_POD_NAME={pod['metadata']['name']};K8S_POD_UID={pod['metadata']['uid']}",
            "CNI_PATH": str(BIN),
        }
        done = subprocess.run(
            ["ip", "netns", "exec", self.node.netns, str(BIN / "sgp-cni")],
            input=json.dumps(config),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sgp-cni {command} failed: {done.stdout}{done.stderr}")
        return json.loads(done.stdout) if done.stdout.strip() else None
