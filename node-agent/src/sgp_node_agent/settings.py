"""Daemon settings, read from the environment (the way aws-node is configured)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from .names import DEFAULT_VETH_PREFIX
from .netconf import parse_mode
from .protocol import DEFAULT_SOCKET, DEFAULT_STATE_DIR

DEFAULT_HOST_STATE = "/run/sgp-node-agent/host.json"


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class AgentSettings:
    node_name: str = ""
    mode: str = "strict"  # POD_SECURITY_GROUP_ENFORCING_MODE
    host_netns: str = ""  # operate on this namespace instead of our own (containers, labs)
    trunk_interface: str = ""
    trunk_mac: str = ""
    primary_interface: str = "eth0"
    veth_prefix: str = DEFAULT_VETH_PREFIX
    disable_tcp_early_demux: bool = False
    connmark: int = 0x80
    vpc_cidrs: tuple[str, ...] = ()
    external_snat: bool = False
    socket_path: str = DEFAULT_SOCKET
    state_dir: str = DEFAULT_STATE_DIR
    host_state_file: str = DEFAULT_HOST_STATE
    annotation_timeout: float = 10.0
    report_url: str = ""  # base URL of sgpadmin, e.g. https://sgpadmin.example
    report_token: str = ""
    report_interval: float = 60.0

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> AgentSettings:
        env = os.environ if env is None else env
        token = env.get("SGP_REPORT_TOKEN", "")
        token_file = env.get("SGP_REPORT_TOKEN_FILE", "")
        if not token and token_file:
            with open(token_file) as handle:
                token = handle.read().strip()
        cidrs = tuple(c.strip() for c in env.get("SGP_VPC_CIDRS", "").split(",") if c.strip())
        return cls(
            node_name=env.get("SGP_NODE_NAME", "") or env.get("MY_NODE_NAME", ""),
            mode=parse_mode(env.get("POD_SECURITY_GROUP_ENFORCING_MODE")),
            host_netns=env.get("SGP_HOST_NETNS", ""),
            trunk_interface=env.get("SGP_TRUNK_INTERFACE", ""),
            trunk_mac=env.get("SGP_TRUNK_MAC", "").lower(),
            primary_interface=env.get("SGP_PRIMARY_INTERFACE", "eth0"),
            veth_prefix=env.get("AWS_VPC_K8S_CNI_VETHPREFIX", DEFAULT_VETH_PREFIX),
            disable_tcp_early_demux=_bool(env.get("DISABLE_TCP_EARLY_DEMUX")),
            connmark=int(env.get("AWS_VPC_K8S_CNI_CONNMARK", "0x80"), 0),
            vpc_cidrs=cidrs,
            external_snat=_bool(env.get("AWS_VPC_K8S_CNI_EXTERNALSNAT")),
            socket_path=env.get("SGP_AGENT_SOCKET", DEFAULT_SOCKET),
            state_dir=env.get("SGP_STATE_DIR", DEFAULT_STATE_DIR),
            host_state_file=env.get("SGP_HOST_STATE_FILE", DEFAULT_HOST_STATE),
            annotation_timeout=float(env.get("SGP_ANNOTATION_TIMEOUT", "10")),
            report_url=env.get("SGP_REPORT_URL", "").rstrip("/"),
            report_token=token,
            report_interval=float(env.get("SGP_REPORT_INTERVAL", "60")),
        )
