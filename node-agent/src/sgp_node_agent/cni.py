"""One CNI call (spec 1.0.0), from the runtime's environment and stdin to the exit status and
the text the plugin prints.

The plugin process (:mod:`sgp_node_agent.cni_client`) only forwards the call; this module
answers it, in the daemon for every normal call and in the plugin process when the daemon
cannot be reached. Importing pyroute2 and the kubernetes client in the plugin would add ~300 ms
to every pod start, so the daemon holds them.

Robustness when the daemon is unreachable (:func:`run_without_daemon`):
* ADD and CHECK fail with code 11 ("try again later"); kubelet retries.
* DEL never blocks pod deletion: it tears down locally from the prevResult and the records on
  disk (importing the executor only then), with the same ownership guard, synchronously.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping

from . import errors
from .cni_client import CNI_VERB, SETTLE_VERB
from .protocol import DEFAULT_STATE_DIR, SUPPORTED_VERSIONS

log = logging.getLogger(__name__)

Handler = Callable[[dict], "dict | None"]


def respond(env: Mapping[str, str], stdin_text: str, handle: Handler) -> tuple[int, str]:
    """Answer one call: (exit status, text for stdout). ``handle`` carries out a well-formed
    ADD, DEL or CHECK request ``{"env": {CNI_*}, "config": <netconf>}`` and returns the result
    to print (None for none) or raises :class:`~sgp_node_agent.errors.CniError`."""
    try:
        output = _run(env, stdin_text, handle)
    except errors.CniError as exc:
        return 1, json.dumps(exc.to_json(_requested_version(stdin_text))) + "\n"
    except Exception as exc:  # never a traceback to the runtime
        log.exception("CNI call failed")
        error = errors.CniError(errors.OTHER, "sgp-node-agent internal error", repr(exc))
        return 1, json.dumps(error.to_json()) + "\n"
    return 0, "" if output is None else json.dumps(output) + "\n"


def _run(env: Mapping[str, str], stdin_text: str, handle: Handler) -> dict | None:
    command = env.get("CNI_COMMAND", "")
    if command == "VERSION":
        try:
            requested = json.loads(stdin_text).get("cniVersion") if stdin_text.strip() else None
        except (ValueError, AttributeError):
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
    cni_env = {key: value for key, value in env.items() if key.startswith("CNI_")}
    return handle({"env": cni_env, "config": raw_config})


def _requested_version(stdin_text: str) -> str:
    try:
        version = json.loads(stdin_text).get("cniVersion")
    except (ValueError, AttributeError):
        return "1.0.0"
    return version if version in SUPPORTED_VERSIONS else "1.0.0"


def parse_request(data: bytes) -> tuple[str, dict[str, str], str]:
    """The daemon's side of the wire format of :mod:`sgp_node_agent.cni_client`:
    (``"CNI"`` or ``"SETTLE"``, the ``CNI_*`` environment, stdin). ValueError if malformed."""
    if data.startswith(SETTLE_VERB):
        return "SETTLE", {}, ""
    if not data.startswith(CNI_VERB):
        raise ValueError("not an sgp-cni request")
    rest = data[len(CNI_VERB) :]
    if rest.startswith(b"\0"):  # no CNI_* variables at all
        env_block, stdin = b"", rest[1:]
    else:
        env_block, end, stdin = rest.partition(b"\0\0")
        if not end:
            raise ValueError("sgp-cni request without the end of its environment")
    env = {}
    for entry in env_block.split(b"\0"):
        if entry:
            name, _, value = entry.decode(errors="surrogateescape").partition("=")
            env[name] = value
    return "CNI", env, stdin.decode(errors="replace")


def delete_locally(request: dict, state_dir: str) -> None:
    """DEL without the daemon: same service code, records from disk, no API access; the branch
    link is deleted before this returns."""
    from .executor import Executor
    from .service import CniService
    from .state import RecordStore

    executor = Executor()
    try:
        CniService(executor, RecordStore(state_dir), pods=None).handle(request)
    finally:
        executor.close()


def run_without_daemon(stdin: bytes, socket_path: str, reason: OSError) -> tuple[int, bytes]:
    """The plugin's answer when ``sgp-node-agent`` is not reachable at ``socket_path``."""

    def handle(request: dict) -> None:
        # The daemon validates every call; without it, validate here so that a bad call still
        # gets its own error code rather than "try again later".
        from .netconf import parse_environment, parse_netconf

        config = request["config"]
        parse_netconf(config)
        args = parse_environment(request["env"])
        if args.command == "DEL":
            delete_locally(request, str(config.get("stateDir") or DEFAULT_STATE_DIR))
            return None
        raise errors.CniError(
            errors.TRY_AGAIN_LATER,
            f"sgp-node-agent is not reachable at {socket_path}",
            str(reason),
        )

    status, text = respond(os.environ, stdin.decode(errors="replace"), handle)
    return status, text.encode()
