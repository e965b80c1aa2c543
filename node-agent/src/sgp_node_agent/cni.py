"""``sgp-cni``: the CNI plugin the container runtime executes (CNI spec 1.0.0).

A thin client on purpose: it imports only the standard library, validates the call, and
forwards it to ``sgp-node-agent`` over the daemon's unix socket, which holds the Kubernetes
client, the records and the netlink work. Python start-up of a stdlib-only module is ~20 ms;
importing pyroute2 and the kubernetes client would add ~300 ms to every pod start.

Robustness when the daemon is unreachable:
* ADD and CHECK fail with code 11 ("try again later"); kubelet retries.
* DEL never blocks pod deletion: it tears down locally from the prevResult and the records on
  disk (importing the executor only then), with the same ownership guard.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Mapping

from . import errors
from .protocol import DEFAULT_SOCKET, DEFAULT_STATE_DIR, SUPPORTED_VERSIONS

CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 60.0


def call_daemon(path: str, request: dict, timeout: float = CALL_TIMEOUT) -> dict:
    """Send one request line, read one reply line. Raises OSError when the daemon is away."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(path)
        sock.settimeout(timeout)
        sock.sendall(json.dumps(request).encode() + b"\n")
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            if chunk.endswith(b"\n"):
                break
    reply = b"".join(chunks)
    if not reply:
        raise ConnectionError("sgp-node-agent closed the connection without a reply")
    return json.loads(reply)


def delete_locally(request: dict, state_dir: str) -> None:
    """DEL without the daemon: same service code, records from disk, no API access."""
    from .executor import Executor
    from .service import CniService
    from .state import RecordStore

    executor = Executor()
    try:
        CniService(executor, RecordStore(state_dir), pods=None).handle(request)
    finally:
        executor.close()


def run(env: Mapping[str, str], stdin_text: str) -> dict | None:
    """One CNI call; returns the JSON to print (None for none) or raises CniError."""
    command = env.get("CNI_COMMAND", "")
    if command == "VERSION":
        try:
            requested = json.loads(stdin_text).get("cniVersion") if stdin_text.strip() else None
        except ValueError:
            requested = None
        return {"cniVersion": requested or "1.0.0", "supportedVersions": list(SUPPORTED_VERSIONS)}
    try:
        raw_config = json.loads(stdin_text)
    except ValueError as exc:
        raise errors.CniError(
            errors.DECODE_FAILURE, "network configuration is not JSON", str(exc)
        ) from exc
    if not isinstance(raw_config, dict):
        raise errors.CniError(errors.DECODE_FAILURE, "network configuration must be a JSON object")
    socket_path = str(raw_config.get("agentSocket") or DEFAULT_SOCKET)
    cni_env = {key: value for key, value in env.items() if key.startswith("CNI_")}
    request = {"env": cni_env, "config": raw_config}
    try:
        reply = call_daemon(socket_path, request)
    except (OSError, ValueError) as exc:
        # The daemon validates every call; without it, validate here so that a bad call still
        # gets its own error code rather than "try again later".
        from .netconf import parse_environment, parse_netconf

        parse_netconf(raw_config)
        parse_environment(env)
        if command == "DEL":
            delete_locally(request, str(raw_config.get("stateDir") or DEFAULT_STATE_DIR))
            return None
        raise errors.CniError(
            errors.TRY_AGAIN_LATER, f"sgp-node-agent is not reachable at {socket_path}", str(exc)
        ) from exc
    if reply.get("error"):
        raise errors.CniError.from_json(reply["error"])
    return reply.get("result")


def main() -> int:
    env = dict(os.environ)
    stdin_text = "" if sys.stdin is None else sys.stdin.read()
    try:
        output = run(env, stdin_text)
    except errors.CniError as exc:
        version = _requested_version(stdin_text)
        sys.stdout.write(json.dumps(exc.to_json(version)) + "\n")
        return 1
    except Exception as exc:  # never a traceback to the runtime
        sys.stdout.write(
            json.dumps(errors.CniError(errors.OTHER, "internal error", repr(exc)).to_json()) + "\n"
        )
        return 1
    if output is not None:
        sys.stdout.write(json.dumps(output) + "\n")
    return 0


def _requested_version(stdin_text: str) -> str:
    try:
        version = json.loads(stdin_text).get("cniVersion")
    except (ValueError, AttributeError):
        return "1.0.0"
    return version if version in SUPPORTED_VERSIONS else "1.0.0"


if __name__ == "__main__":
    sys.exit(main())
