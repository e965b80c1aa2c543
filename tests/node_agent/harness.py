"""Running ``sgp-node-agent`` and ``sgp-cni`` the way a node and a container runtime do: the
plugin is installed into the node's CNI bin directory (``install-cni``) and executed from
there."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lab import VPC_CIDR, Lab
from sgp_node_agent.cni_client import SETTLE_VERB, exchange
from sgp_node_agent.install import install_plugin

from sgpadmin.demo.processes import stop_process

BIN = Path(sys.executable).parent


def annotation(
    vlan_id: int, mac: str, ip: str, subnet: str = "10.0.1.0/24", key: str = "vlanId"
) -> str:
    return json.dumps(
        [
            {
                "eniId": f"eni-{vlan_id:04d}",
                "ifAddress": mac,
                "privateIp": ip,
                "ipv6Addr": "",
                key: vlan_id,
                "subnetCidr": subnet,
                "subnetV6Cidr": "",
                "associationID": f"trunk-assoc-{vlan_id}",
            }
        ]
    )


def netconf(mode: str, socket_path: str, state_dir: str, **extra) -> dict:
    body = {
        "cniVersion": "1.0.0",
        "name": "sgp",
        "type": "sgp-cni",
        "podSGEnforcingMode": mode,
        "mtu": 9001,
        "vethPrefix": "eni",
        "branchLinkKind": "macvlan",  # this kernel has no 802.1Q; production default is vlan
        "agentSocket": socket_path,
        "stateDir": state_dir,
    }
    body.update(extra)
    return body


class Node:
    """One lab node with its daemon (a subprocess of ``sgp-node-agent run``)."""

    def __init__(
        self, lab: Lab, workdir: Path, kubeconfig: Path, mode: str, early_demux_off: bool
    ) -> None:
        self.lab = lab
        self.mode = mode
        self.workdir = workdir
        self.socket = str(workdir / "cni.sock")
        self.state_dir = str(workdir / "pods")
        self.plugin = str(install_plugin(workdir / "cni-bin"))
        self.env = {
            **os.environ,
            "SGP_NODE_NAME": lab.node,
            "SGP_HOST_NETNS": lab.netns_path(lab.node),
            "SGP_TRUNK_INTERFACE": "eth1",
            "SGP_PRIMARY_INTERFACE": "eth0",
            "POD_SECURITY_GROUP_ENFORCING_MODE": mode,
            "DISABLE_TCP_EARLY_DEMUX": "true" if early_demux_off else "false",
            "SGP_VPC_CIDRS": VPC_CIDR,
            "SGP_AGENT_SOCKET": self.socket,
            "SGP_STATE_DIR": self.state_dir,
            "SGP_HOST_STATE_FILE": str(workdir / "host.json"),
            "SGP_ANNOTATION_TIMEOUT": "2",
            "SGP_REPORT_INTERVAL": "3600",
            "KUBECONFIG": str(kubeconfig),
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> Node:
        log = open(self.workdir / "agent.log", "w")
        self.process = subprocess.Popen(
            [str(BIN / "sgp-node-agent"), "run"], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while not os.path.exists(self.socket):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(
                    "sgp-node-agent did not start: " + (self.workdir / "agent.log").read_text()
                )
            time.sleep(0.05)
        return self

    def command(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run ``sgp-node-agent <args>`` with this node's environment (output captured)."""
        return subprocess.run(
            [str(BIN / "sgp-node-agent"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def stop(self) -> None:
        stop_process(self.process)

    def cni(
        self,
        command: str,
        container_id: str,
        netns: str,
        pod: tuple[str, str, str] | None = None,
        prev_result: dict | None = None,
        ifname: str = "eth0",
        mode: str | None = None,
        in_node: bool = True,
        **conf,
    ) -> tuple[int, dict | None]:
        """Invoke sgp-cni as a runtime does; returns (exit status, parsed stdout or None)."""
        args = ""
        if pod:
            args = f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod[0]};K8S_POD_NAME={pod[1]};K8S_POD_UID={pod[2]}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": netns,
            "CNI_IFNAME": ifname,
            "CNI_ARGS": args,
            "CNI_PATH": str(Path(self.plugin).parent),
        }
        config = netconf(mode or self.mode, self.socket, self.state_dir, **conf)
        if prev_result is not None:
            config["prevResult"] = prev_result
        argv = [self.plugin]
        if in_node:
            argv = ["ip", "netns", "exec", self.lab.node, *argv]
        done = subprocess.run(
            argv, input=json.dumps(config), env=env, capture_output=True, text=True, timeout=30
        )
        out = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, out

    def settle(self) -> None:
        """Wait until the daemon has deleted the branch links of the DELs it answered (it deletes
        them in the background); then the node shows what the DELs left."""
        status, output = exchange(self.socket, SETTLE_VERB)
        assert status == 0, output


def agent_settings(node: Node, **changes):
    from sgp_node_agent.settings import AgentSettings

    settings = AgentSettings.from_environment(node.env)
    if changes:
        from dataclasses import replace

        settings = replace(settings, **changes)
    return settings


class InProcessNode(Node):
    """The same node, with the daemon's Agent running in the test process (threads), so a
    test can drive its repair pass and read its state directly."""

    def __init__(self, *args, pod_source=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pod_source = pod_source
        self.agent = None

    def start(self, **changes) -> InProcessNode:
        from sgp_node_agent.daemon import Agent

        self.agent = Agent(agent_settings(self, **changes), self.pod_source)
        self.agent.install_host()
        self.agent.serve()
        return self

    def stop(self) -> None:
        if self.agent is not None:
            self.agent.close()
            self.agent = None
