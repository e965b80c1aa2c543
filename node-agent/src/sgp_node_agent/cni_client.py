"""``sgp-cni``: the CNI plugin as the container runtime executes it, a fast-starting client.

The runtime starts the plugin once per call, so its start-up is part of every pod's ADD and
DEL. This module therefore runs under ``python -IS`` (no ``site``, no user or environment
paths) and imports only what is built into the interpreter or sits in its lib-dynload:
``sys``, ``posix``, ``time``, ``_socket`` and ``_json``. That start-up is ~6 ms; ``site`` and the
``json`` package would add ~15 ms. It parses nothing itself beyond finding ``agentSocket``:
it forwards the call as it came (the ``CNI_*`` environment and the raw stdin bytes) to
``sgp-node-agent``, which validates it, does the work and replies with the exit status and
the exact bytes to print.

Any unusual path leaves the fast path: when the daemon cannot be reached (nothing listens on
the socket, or its accept queue stays full), the client loads the full package
(``site.main()``) and hands the call to :func:`sgp_node_agent.cni.run_without_daemon`, where
DEL tears down locally and the other commands fail as before (ADD and CHECK with code 11,
"try again later"). A daemon that accepted the call but broke off or did not answer in time
is still at work on it: then ADD, CHECK and DEL all fail with code 11, and the runtime's
retry goes through the daemon again. (A local teardown then would race the daemon's own work
on the node's links and rules.)

``sgp-node-agent install-cni --dest DIR`` writes this file as ``DIR/sgp-cni`` behind the
shebang ``#!<python> -IS``; the ``sgp-cni`` console script runs the same code.

Wire format, one call per connection; the client half-closes its side after the request:

* request ``b"CNI\\n"``, then ``NAME=VALUE\\0`` for each ``CNI_*`` variable, an empty entry
  (``\\0``), then the stdin bytes; or ``b"SETTLE\\n"``: reply once the daemon's background
  deletions of branch links are done (tests and benchmarks use it);
* reply ``b"<exit status>\\n"``, then the bytes to write to stdout.
"""

import _socket
import posix
import sys
import time

DEFAULT_SOCKET = "/run/sgp-node-agent/cni.sock"
CNI_VERB = b"CNI\n"
SETTLE_VERB = b"SETTLE\n"
CONNECT_TIMEOUT = 2.0
CONNECT_RETRY_INTERVAL = 0.005
CALL_TIMEOUT = 60.0


class _ScanContext:
    """What ``_json.make_scanner`` reads off a ``json.JSONDecoder``, without importing json."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float
    memo: dict = {}


def _config(stdin: bytes) -> dict:
    """The network configuration (parsed by json's C scanner), or {} when it does not parse:
    the daemon (or the fallback) reports what is wrong with it."""
    import _json

    try:
        text = stdin.decode()
        start = len(text) - len(text.lstrip())
        config = _json.make_scanner(_ScanContext)(text, start)[0]  # type: ignore[arg-type]
    except Exception:
        return {}
    return config if isinstance(config, dict) else {}


def agent_socket(stdin: bytes) -> str:
    """The configuration's top-level ``agentSocket``, or the default socket."""
    value = _config(stdin).get("agentSocket")
    return str(value) if value else DEFAULT_SOCKET


def cni_request(env, stdin: bytes) -> bytes:
    """The request for one CNI call: the ``CNI_*`` entries of ``env`` (str or bytes) and stdin."""
    parts = [CNI_VERB]
    for name, value in env.items():
        name = name if isinstance(name, bytes) else name.encode()
        if name.startswith(b"CNI_"):
            value = value if isinstance(value, bytes) else value.encode()
            parts.append(name + b"=" + value + b"\0")
    parts.append(b"\0")
    parts.append(stdin)
    return b"".join(parts)


class DaemonUnreachable(OSError):
    """Nothing took the call: no socket, nobody listening, or a queue that stayed full."""


def connect(sock, path: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Connect to the daemon's socket. A unix socket whose accept queue is full refuses a
    connect with EAGAIN at once (the kubelet starts many pods together), so that is retried
    until ``timeout``; any other error, or a queue still full after it, is raised."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock.connect(path)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(CONNECT_RETRY_INTERVAL)


def exchange(path: str, request: bytes, timeout: float = CALL_TIMEOUT) -> tuple:
    """Send one request, read the reply: (exit status, stdout bytes). DaemonUnreachable when
    nothing took the call; another OSError when the daemon broke off or did not answer in
    time (ConnectionError for a reply without its status line)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    chunks = []
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        try:
            connect(sock, path)
        except OSError as exc:
            raise DaemonUnreachable(exc.errno, f"{exc.strerror or exc}: {path}") from exc
        sock.settimeout(timeout)
        sock.sendall(request)
        sock.shutdown(_socket.SHUT_WR)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sock.close()
    head, newline, output = b"".join(chunks).partition(b"\n")
    if not newline or not head.isdigit():
        raise ConnectionError("sgp-node-agent closed the connection without a complete reply")
    return int(head), output


def _read_stdin() -> bytes:
    chunks = []
    try:
        while True:
            chunk = posix.read(0, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except OSError:  # no stdin at all
        pass
    return b"".join(chunks)


def _write_stdout(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[posix.write(1, view) :]


def _without_daemon(stdin: bytes, path: str, reason: OSError) -> tuple:
    if "site" not in sys.modules:
        import site

        site.main()
    from sgp_node_agent.cni import run_without_daemon

    return run_without_daemon(stdin, path, reason)


def _daemon_broke_off(stdin: bytes, reason: OSError) -> tuple:
    """CNI error 11 (try again later), as JSON built without the json package."""
    import _json

    version = _config(stdin).get("cniVersion")
    fields = (
        version if isinstance(version, str) else "1.0.0",
        "sgp-node-agent took the call but did not finish answering it",
        str(reason) or type(reason).__name__,
    )
    quoted = tuple(_json.encode_basestring_ascii(field).encode() for field in fields)
    return 1, b'{"cniVersion": %s, "code": 11, "msg": %s, "details": %s}\n' % quoted


def main() -> int:
    stdin = _read_stdin()
    path = agent_socket(stdin)
    try:
        status, output = exchange(path, cni_request(posix.environ, stdin))
    except DaemonUnreachable as exc:
        status, output = _without_daemon(stdin, path, exc)
    except OSError as exc:
        if posix.environ.get(b"CNI_COMMAND") == b"VERSION":  # no side effects: answer here
            status, output = _without_daemon(stdin, path, exc)
        else:
            status, output = _daemon_broke_off(stdin, exc)
    _write_stdout(output)
    return status


if __name__ == "__main__":
    sys.exit(main())
