"""``sgp-node-agent``: the per-node daemon.

Commands: ``run`` (host setup, then serve ``sgp-cni`` on the unix socket and repair and report
periodically), ``setup-host``, ``uninstall`` (undo the host setup), ``report-once``,
``install-cni`` (write the ``sgp-cni`` plugin into ``--dest``, ``/opt/cni/bin`` by default).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import socketserver
import sys
import threading
import time

from . import cni, errors
from .executor import Executor, NetlinkThread
from .hostplan import watched_sysctls
from .hostsetup import HostSetup
from .install import install_plugin
from .netns import read_sysctl
from .reaper import LinkReaper
from .repair import repair_pass
from .report import ReportError, build_report, post_report
from .service import CniService
from .settings import AgentSettings
from .state import RecordStore

log = logging.getLogger("sgp-node-agent")


class _Handler(socketserver.StreamRequestHandler):
    """One ``sgp-cni`` call per connection, in the wire format of :mod:`.cni_client`."""

    def handle(self) -> None:
        agent: Agent = self.server.agent  # type: ignore[attr-defined]
        data = self.rfile.read()  # the client half-closes after its request
        try:
            verb, env, stdin_text = cni.parse_request(data)
        except ValueError as exc:
            error = errors.CniError(errors.DECODE_FAILURE, "malformed sgp-cni request", str(exc))
            status, output = 1, json.dumps(error.to_json()) + "\n"
        else:
            if verb == "SETTLE":
                agent.settle()
                status, output = 0, ""
            else:
                status, output = cni.respond(env, stdin_text, agent.service.handle)
        self.wfile.write(b"%d\n" % status + output.encode())


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    # socketserver's default queue is 5 connections; the kubelet starts many pods at once and
    # each waiting sgp-cni holds a place in the queue until a handler thread accepts it.
    request_queue_size = socket.SOMAXCONN
    agent: Agent


class Agent:
    def __init__(self, settings: AgentSettings, pods=None) -> None:
        self.settings = settings
        self.netlink = NetlinkThread(settings.host_netns or None)
        self.executor = self.netlink.executor
        self.store = RecordStore(settings.state_dir)
        self.reaper = LinkReaper(settings.host_netns or None)
        self.pods = pods
        self.service = CniService(
            self.executor,
            self.store,
            pods,
            trunk_interface=settings.trunk_interface,
            trunk_mac=settings.trunk_mac,
            annotation_timeout=settings.annotation_timeout,
            serial=self.netlink.call,
            reaper=self.reaper,
        )
        self.server: _Server | None = None

    def serve(self) -> threading.Thread:
        path = self.settings.socket_path
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        if os.path.exists(path):
            os.unlink(path)
        old_umask = os.umask(0o077)  # root only: the socket plumbs pods
        try:
            self.server = _Server(path, _Handler)
        finally:
            os.umask(old_umask)
        self.server.agent = self
        thread = threading.Thread(target=self.server.serve_forever, name="cni-socket", daemon=True)
        thread.start()
        return thread

    def settle(self) -> None:
        """Return once the branch links of answered DELs are deleted (see :mod:`.reaper`)."""
        self.reaper.settle()

    def trunk_name(self) -> str:
        try:
            return self.executor.find_trunk(
                self.settings.trunk_interface, self.settings.trunk_mac
            ).name
        except LookupError:
            return ""

    def _sysctls(self) -> dict[str, str | None]:
        with self.executor.in_host():
            return {
                path: read_sysctl(path) for path in watched_sysctls(self.settings.primary_interface)
            }

    def install_host(self):
        return self.netlink.call(lambda: HostSetup(self.executor, self.settings).install())

    def uninstall_host(self):
        return self.netlink.call(lambda: HostSetup(self.executor, self.settings).uninstall())

    def repair_and_report(self) -> dict:
        live, api_error = None, ""
        listed_at = time.time()
        if self.pods is not None and self.settings.node_name:
            try:
                live = self.pods.pods_on_node(self.settings.node_name)
            except Exception as exc:
                api_error = f"listing pods failed: {exc}"
        call = self.netlink.call
        result = call(
            lambda: repair_pass(
                self.executor,
                self.store,
                live,
                listed_at,
                self.service.last_errors,
                deleting=frozenset(self.reaper.pending()),  # read where no DEL can queue more
            )
        )
        result.api_error = api_error
        report = build_report(
            self.settings.node_name,
            self.settings.mode,
            call(self.trunk_name),
            call(self._sysctls),
            call(self.executor.rules),
            self.settings.connmark,
            result,
        )
        if self.settings.report_url:
            post_report(
                self.settings.report_url,
                self.settings.node_name,
                self.settings.report_token,
                report,
            )
        return report

    def close(self) -> None:
        cache = getattr(self.pods, "cache", None)
        if cache is not None:
            cache.stop()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            try:
                os.unlink(self.settings.socket_path)
            except FileNotFoundError:
                pass
        self.netlink.close()
        self.reaper.close()


def _pod_source(node_name: str = ""):
    from .kube import PodCache, PodSource, load_api_client

    api_client = load_api_client()
    cache = PodCache(api_client, node_name).start() if node_name else None
    return PodSource(api_client, cache=cache)


def run(settings: AgentSettings) -> int:
    if not settings.node_name:
        log.warning("SGP_NODE_NAME is not set: no pod cache, no leftover removal, no report")
    agent = Agent(settings, _pod_source(settings.node_name))
    agent.install_host()
    agent.serve()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    log.info(
        "serving %s for node %s (%s mode)", settings.socket_path, settings.node_name, settings.mode
    )
    while not stop.is_set():
        try:
            agent.repair_and_report()
        except ReportError as exc:
            log.warning("%s", exc)
        except Exception:
            log.exception("repair pass failed")
        stop.wait(settings.report_interval)
    agent.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sgp-node-agent", description=__doc__.splitlines()[0])
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "setup-host", "uninstall", "report-once", "install-cni"],
    )
    parser.add_argument("--dest", default="/opt/cni/bin", help="install-cni: the CNI bin dir")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="install-cni: the interpreter the plugin runs with (default: this one)",
    )
    args = parser.parse_args(argv)
    if args.command == "install-cni":
        print(install_plugin(args.dest, args.python))
        return 0
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = AgentSettings.from_environment()
    if args.command == "run":
        return run(settings)
    if args.command == "report-once":
        agent = Agent(settings, _pod_source())
        try:
            print(json.dumps(agent.repair_and_report(), indent=2))
        finally:
            agent.close()
        return 0
    executor = Executor(settings.host_netns or None)
    try:
        setup = HostSetup(executor, settings)
        plan = setup.install() if args.command == "setup-host" else setup.uninstall()
    finally:
        executor.close()
    print(
        json.dumps(
            {
                "addedRules": [rule.describe() for rule in plan.add_rules],
                "deletedRules": [rule.describe() for rule in plan.delete_rules],
                "sysctls": [sysctl.describe() for sysctl in plan.sysctls],
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
