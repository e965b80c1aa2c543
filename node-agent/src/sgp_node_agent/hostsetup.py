"""Applies (and undoes) the node-level plan of :mod:`hostplan` on the host namespace."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from dataclasses import asdict
from pathlib import Path

from .executor import Executor
from .hostplan import (
    LOCAL_AT_0,
    LOCAL_AT_20,
    HostInputs,
    HostObserved,
    HostPlan,
    fwmark_rule,
    plan_host,
    plan_uninstall,
    watched_sysctls,
)
from .model import Rule
from .names import STRICT
from .netns import read_sysctl, write_sysctl
from .settings import AgentSettings


class NftError(RuntimeError):
    pass


def _rules_to_json(undo: dict) -> dict:
    return {
        "added_rules": [asdict(rule) for rule in undo.get("added_rules", [])],
        "removed_rules": [asdict(rule) for rule in undo.get("removed_rules", [])],
        "sysctls": dict(undo.get("sysctls", {})),
    }


def _rules_from_json(body: dict) -> dict:
    return {
        "added_rules": [Rule(**rule) for rule in body.get("added_rules", [])],
        "removed_rules": [Rule(**rule) for rule in body.get("removed_rules", [])],
        "sysctls": dict(body.get("sysctls", {})),
    }


class HostSetup:
    def __init__(self, executor: Executor, settings: AgentSettings) -> None:
        self.executor = executor
        self.settings = settings
        self.undo_file = Path(settings.host_state_file)

    def observe(self) -> HostObserved:
        with self.executor.in_host():
            sysctls = {
                path: read_sysctl(path) for path in watched_sysctls(self.settings.primary_interface)
            }
        return HostObserved(rules=tuple(self.executor.rules()), sysctls=sysctls)

    def primary_ip(self) -> str | None:
        ipr = self.executor.host
        found = ipr.link_lookup(ifname=self.settings.primary_interface)
        if not found:
            return None
        for msg in ipr.get_addr(family=socket.AF_INET, index=found[0]):
            return msg.get_attr("IFA_ADDRESS")
        return None

    def inputs(self) -> HostInputs:
        s = self.settings
        return HostInputs(
            mode=s.mode,
            primary_interface=s.primary_interface,
            primary_ip=self.primary_ip(),
            veth_prefix=s.veth_prefix,
            connmark=s.connmark,
            disable_tcp_early_demux=s.disable_tcp_early_demux,
            vpc_cidrs=s.vpc_cidrs,
            external_snat=s.external_snat,
        )

    def load_undo(self) -> dict | None:
        try:
            return _rules_from_json(json.loads(self.undo_file.read_text()))
        except FileNotFoundError:
            return None

    def install(self) -> HostPlan:
        plan = plan_host(self.inputs(), self.observe(), self.load_undo())
        self.apply(plan)
        self.undo_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.undo_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(_rules_to_json(plan.undo), sort_keys=True))
        os.replace(tmp, self.undo_file)
        return plan

    def uninstall(self) -> HostPlan:
        undo = self.load_undo()
        if undo is None:  # no record: undo what setup would have done, without restoring sysctls
            strict = self.settings.mode == STRICT
            undo = {
                "added_rules": [fwmark_rule(self.settings.connmark)]
                + ([LOCAL_AT_20] if strict else []),
                "removed_rules": [LOCAL_AT_0] if strict else [],
                "sysctls": {},
            }
        plan = plan_uninstall(undo, self.observe())
        self.apply(plan)
        self.undo_file.unlink(missing_ok=True)
        return plan

    def apply(self, plan: HostPlan) -> None:
        for rule in plan.add_rules:  # adds first: the local rule is never absent
            self.executor.add_rule(rule)
        for rule in plan.delete_rules:
            self.executor.delete_rule(rule)
        with self.executor.in_host():
            for sysctl in plan.sysctls:
                write_sysctl(sysctl.path, sysctl.value, sysctl.optional)
            if plan.nft_script:
                run_nft(plan.nft_script)


def run_nft(script: str) -> None:
    """Feed a script to ``nft -f -`` in the calling thread's namespace."""
    try:
        done = subprocess.run(
            ["nft", "-f", "-"], input=script, text=True, capture_output=True, timeout=10
        )
    except FileNotFoundError as exc:
        raise NftError("nft is not installed (Debian package nftables)") from exc
    if done.returncode != 0:
        raise NftError(f"nft failed: {done.stderr.strip()}")
