"""ADD, DEL and CHECK as the daemon carries them out for ``sgp-cni``.

The plugin forwards each call here over a unix socket: parsing, the API lookup, the plan and
the netlink work all run in this long-lived process, so a CNI call pays for one Python
start-up of a stdlib-only client, not for importing pyroute2 and the kubernetes client.
All netlink work goes through ``serial`` (the daemon's single netlink thread), which also
serialises ADD, DEL, CHECK and the repair pass on the node.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from . import errors
from .annotation import BranchENI
from .executor import Executor, PlumbingError
from .names import RETIRED_LINK_GROUP, host_veth_name, retired_link_name, vlan_id_of_link
from .netconf import CniArgs, NetConf, parse_environment, parse_netconf
from .observe import snapshot_host
from .plan import PodInputs, choose_mac, plan_pod
from .reaper import LinkReaper
from .reconcile import compare_pod, inputs_from_record
from .result import build_result, target_from_prev_result
from .state import PodRecord, RecordStore, claims_of_others, hand_over
from .teardown import TeardownPlan, TeardownTarget, plan_teardown


@dataclass
class CniService:
    executor: Executor
    store: RecordStore
    pods: Any  # a PodSource; None in the plugin's local DEL fallback
    trunk_interface: str = ""
    trunk_mac: str = ""
    annotation_timeout: float = 10.0
    serial: Callable[..., Any] = field(default=lambda fn, *args: fn(*args))
    # runs fn(*args) on the daemon's netlink thread; the default runs it right here
    reaper: LinkReaper | None = None
    # the daemon's background deleter of branch links; None: DEL deletes them before returning

    def __post_init__(self) -> None:
        self.last_errors: dict[str, str] = {}

    def handle(self, request: dict) -> dict | None:
        """Run one forwarded call: ``{"env": {CNI_*...}, "config": <netconf>}``."""
        args = parse_environment(request.get("env") or {})
        conf = parse_netconf(request.get("config"))
        if args.command == "ADD":
            return self.add(args, conf)
        if args.command == "DEL":
            self.delete(args, conf)
            return None
        if args.command == "CHECK":
            self.check(args, conf)
            return None
        raise errors.CniError(
            errors.INVALID_ENVIRONMENT, f"{args.command} is handled by the plugin"
        )

    # --- ADD -----------------------------------------------------------------------------
    def add(self, args: CniArgs, conf: NetConf) -> dict:
        if self.pods is None:
            raise errors.CniError(errors.TRY_AGAIN_LATER, "no Kubernetes API access for ADD")
        branch = self.pods.wait_for_branch(
            args.pod_namespace, args.pod_name, args.pod_uid, self.annotation_timeout
        )
        record = self.serial(self._plumb, args, conf, branch)
        self.last_errors.pop(args.container_id, None)
        return build_result(conf.cni_version, record)

    def _plumb(self, args: CniArgs, conf: NetConf, branch: BranchENI) -> PodRecord:
        ex = self.executor
        if not os.path.exists(args.netns):
            raise errors.CniError(
                errors.UNKNOWN_CONTAINER, f"network namespace {args.netns} does not exist"
            )
        try:
            trunk = ex.find_trunk(self.trunk_interface, self.trunk_mac)
        except LookupError as exc:
            raise errors.CniError(
                errors.TRY_AGAIN_LATER, "trunk interface not found", str(exc)
            ) from exc
        host_veth = host_veth_name(args.pod_namespace, args.pod_name, conf.mode, conf.veth_prefix)
        existing = self.store.get(args.container_id)
        if existing and existing.host_veth == host_veth:
            host_veth_mac = existing.host_veth_mac  # ADD twice = ADD once
        else:
            taken = ex.known_macs()
            host_veth_mac = choose_mac([os.urandom(6) for _ in range(10)], taken)
        inputs = PodInputs(
            pod_namespace=args.pod_namespace,
            pod_name=args.pod_name,
            ifname=args.ifname,
            mode=conf.mode,
            mtu=conf.mtu,
            veth_prefix=conf.veth_prefix,
            link_kind=conf.branch_link_kind,
            branch=branch,
            host_veth_mac=host_veth_mac,
            trunk=trunk.name,
        )
        plan = plan_pod(inputs)
        if self.reaper is not None:  # an earlier DEL's link of this VLAN id must be gone first
            self.reaper.wait(plan.retired_branch_link)
        try:
            pod_mac = ex.apply_pod(plan, args.netns)
        except PlumbingError as exc:
            self._roll_back(args.container_id, inputs, plan.host_veth)
            self.last_errors[args.container_id] = str(exc)
            raise errors.CniError(errors.OTHER, exc.step, str(exc.cause)) from exc
        record = PodRecord(
            container_id=args.container_id,
            ifname=args.ifname,
            netns=args.netns,
            pod_namespace=args.pod_namespace,
            pod_name=args.pod_name,
            pod_uid=args.pod_uid,
            mode=conf.mode,
            link_kind=conf.branch_link_kind,
            vlan_id=branch.vlan_id,
            branch_mac=branch.mac,
            pod_ip=branch.ip,
            subnet_cidr=branch.subnet_cidr,
            gateway=branch.gateway,
            eni_id=branch.eni_id,
            host_veth=plan.host_veth,
            host_veth_mac=host_veth_mac,
            pod_mac=pod_mac,
            trunk=trunk.name,
            mtu=conf.mtu,
            veth_prefix=conf.veth_prefix,
            created_at=time.time(),
        )
        for older in hand_over(self.store.all(), record):
            self.store.put(older)
        self.store.put(record)
        return record

    def _roll_back(self, container_id: str, inputs: PodInputs, host_veth: str) -> None:
        target = TeardownTarget(
            container_id,
            inputs.branch.vlan_id,
            inputs.branch.ip,
            host_veth,
            inputs.branch.mac,
            inputs.host_veth_mac,
        )
        try:
            self._tear_down(target)
            # The veth pair was made by this very call (its MAC says so): remove it too, so a
            # failed ADD leaves nothing on the host even before the runtime drops the sandbox.
            if self.executor.host_mac(host_veth) == inputs.host_veth_mac:
                self.executor.delete_host_link(host_veth)
        except Exception:  # the original error is what the runtime must see
            pass

    # --- DEL -----------------------------------------------------------------------------
    def delete(self, args: CniArgs, conf: NetConf) -> None:
        """Idempotent. Unknown containers and an empty CNI_NETNS succeed; host-side objects are
        still removed when the netns is already gone (they are keyed by name and IP)."""
        self.serial(self._delete, args, conf)

    def _delete(self, args: CniArgs, conf: NetConf) -> None:
        record = self.store.get(args.container_id)
        target = (
            record.target()
            if record
            else target_from_prev_result(conf.prev_result, args.container_id, args.ifname)
        )
        if target is None:
            return
        try:
            self._tear_down(target, link_in_background=True)
        except PlumbingError as exc:
            self.last_errors[args.container_id] = str(exc)
            raise errors.CniError(errors.OTHER, exc.step, str(exc.cause)) from exc
        self.store.remove(args.container_id)
        self.last_errors.pop(args.container_id, None)

    def _tear_down(self, target: TeardownTarget, link_in_background: bool = False):
        observed = self.executor.observe_branch(target)
        claims = claims_of_others(self.store.all(), target.container_id)
        plan = plan_teardown(target, observed, claims)
        retired: list[str] = []
        if link_in_background and self.reaper is not None:
            plan, retired = self._retire_links(plan)
        try:
            self.executor.apply_teardown(plan)
        finally:
            # Queued only now: a link deletion holds the rtnl lock for milliseconds, and the
            # rule and route deletions above would wait for it.
            for name in retired:
                self.reaper.delete(name)  # type: ignore[union-attr]
        return plan

    def _retire_links(self, plan: TeardownPlan) -> tuple[TeardownPlan, list[str]]:
        """Rename the plan's branch links out of the way, for the reaper to delete (see
        :mod:`sgp_node_agent.reaper`); a link the kernel will not rename stays in the plan."""
        kept, retired = [], []
        for name in plan.delete_links:
            vlan_id = vlan_id_of_link(name)
            new_name = retired_link_name(vlan_id) if vlan_id is not None else ""
            if new_name and self.executor.retire_host_link(name, new_name, RETIRED_LINK_GROUP):
                retired.append(new_name)
            else:
                kept.append(name)
        return replace(plan, delete_links=tuple(kept)), retired

    # --- CHECK ---------------------------------------------------------------------------
    def check(self, args: CniArgs, conf: NetConf) -> None:
        if conf.prev_result is None:
            raise errors.CniError(errors.INVALID_NETWORK_CONFIG, "CHECK needs prevResult")
        record = self.store.get(args.container_id)
        if record is None:
            raise errors.CniError(
                errors.UNKNOWN_CONTAINER, f"container {args.container_id} is not known here"
            )
        snapshot = self.serial(snapshot_host, self.executor)
        status = compare_pod(record, snapshot, inputs_from_record(record))
        if status.missing:
            raise errors.CniError(
                errors.OTHER, "pod network is not as planned", "; ".join(status.missing)
            )
