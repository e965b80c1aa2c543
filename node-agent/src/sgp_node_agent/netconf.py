"""What a CNI call carries: the network configuration (stdin) and the ``CNI_*`` environment.

Imports only the standard library: ``sgp-cni`` parses these in a short-lived process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from . import errors
from .names import DEFAULT_VETH_PREFIX, MODES, STRICT
from .protocol import DEFAULT_SOCKET, SUPPORTED_VERSIONS

COMMANDS = ("ADD", "DEL", "CHECK", "VERSION")
DEFAULT_MTU = 9001
MIN_MTU = 576
BRANCH_LINK_KINDS = ("vlan", "macvlan")


@dataclass(frozen=True)
class NetConf:
    cni_version: str
    name: str
    type: str
    mode: str = STRICT
    mtu: int = DEFAULT_MTU
    veth_prefix: str = DEFAULT_VETH_PREFIX
    branch_link_kind: str = "vlan"
    agent_socket: str = DEFAULT_SOCKET
    prev_result: dict | None = None


@dataclass(frozen=True)
class CniArgs:
    command: str
    container_id: str = ""
    netns: str = ""
    ifname: str = ""
    pod_namespace: str = ""
    pod_name: str = ""
    pod_uid: str = ""
    extra: dict = field(default_factory=dict)


def parse_mode(value: object) -> str:
    """Upstream falls back to strict for anything but ``standard``."""
    text = str(value or "").strip().lower()
    return text if text in MODES else STRICT


def parse_mtu(value: object) -> int:
    """Upstream falls back to 9001 for a missing or out-of-range MTU."""
    try:
        mtu = int(str(value))
    except (TypeError, ValueError):
        return DEFAULT_MTU
    return mtu if MIN_MTU <= mtu <= DEFAULT_MTU else DEFAULT_MTU


def parse_netconf(raw: object) -> NetConf:
    if not isinstance(raw, dict):
        raise errors.CniError(errors.DECODE_FAILURE, "network configuration must be a JSON object")
    version = str(raw.get("cniVersion") or "")
    if not version:
        raise errors.CniError(errors.INVALID_NETWORK_CONFIG, "cniVersion is missing")
    if version not in SUPPORTED_VERSIONS:
        raise errors.CniError(
            errors.INCOMPATIBLE_VERSION,
            f"cniVersion {version} is not supported",
            f"supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    name = str(raw.get("name") or "")
    if not name:
        raise errors.CniError(errors.INVALID_NETWORK_CONFIG, "network name is missing")
    veth_prefix = str(raw.get("vethPrefix") or DEFAULT_VETH_PREFIX)
    if len(veth_prefix) > 4:
        raise errors.CniError(
            errors.INVALID_NETWORK_CONFIG, f"vethPrefix {veth_prefix!r} is longer than 4 characters"
        )
    kind = str(raw.get("branchLinkKind") or "vlan")
    if kind not in BRANCH_LINK_KINDS:
        raise errors.CniError(
            errors.INVALID_NETWORK_CONFIG,
            f"branchLinkKind {kind!r} is not one of {', '.join(BRANCH_LINK_KINDS)}",
        )
    prev = raw.get("prevResult")
    if prev is not None and not isinstance(prev, dict):
        raise errors.CniError(errors.INVALID_NETWORK_CONFIG, "prevResult must be an object")
    return NetConf(
        cni_version=version,
        name=name,
        type=str(raw.get("type") or ""),
        mode=parse_mode(raw.get("podSGEnforcingMode")),
        mtu=parse_mtu(raw.get("mtu")),
        veth_prefix=veth_prefix,
        branch_link_kind=kind,
        agent_socket=str(raw.get("agentSocket") or DEFAULT_SOCKET),
        prev_result=prev,
    )


def parse_cni_args(text: str) -> dict:
    """``CNI_ARGS`` is ``KEY=VALUE`` pairs separated by semicolons."""
    pairs = {}
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise errors.CniError(
                errors.INVALID_ENVIRONMENT, f"CNI_ARGS item {item!r} is not KEY=VALUE"
            )
        pairs[key.strip()] = value.strip()
    return pairs


def parse_environment(env: Mapping[str, str]) -> CniArgs:
    command = env.get("CNI_COMMAND", "")
    if command not in COMMANDS:
        raise errors.CniError(
            errors.INVALID_ENVIRONMENT,
            f"CNI_COMMAND {command!r} is not supported",
            f"supported: {', '.join(COMMANDS)}",
        )
    if command == "VERSION":
        return CniArgs(command=command)
    container_id = env.get("CNI_CONTAINERID", "")
    if not container_id:
        raise errors.CniError(errors.INVALID_ENVIRONMENT, "CNI_CONTAINERID is missing")
    ifname = env.get("CNI_IFNAME", "")
    if not ifname:
        raise errors.CniError(errors.INVALID_ENVIRONMENT, "CNI_IFNAME is missing")
    netns = env.get("CNI_NETNS", "")
    if command in ("ADD", "CHECK") and not netns:
        raise errors.CniError(errors.INVALID_ENVIRONMENT, f"CNI_NETNS is required for {command}")
    args = parse_cni_args(env.get("CNI_ARGS", ""))
    pod_namespace = args.pop("K8S_POD_NAMESPACE", "")
    pod_name = args.pop("K8S_POD_NAME", "")
    if command == "ADD" and not (pod_namespace and pod_name):
        raise errors.CniError(
            errors.INVALID_ENVIRONMENT, "CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME"
        )
    return CniArgs(
        command=command,
        container_id=container_id,
        netns=netns,
        ifname=ifname,
        pod_namespace=pod_namespace,
        pod_name=pod_name,
        pod_uid=args.pop("K8S_POD_UID", ""),
        extra=args,
    )
