"""sgp-cni as a runtime sees it: env + stdin in, JSON out, exit status. Run as installed by
``sgp-node-agent install-cni`` (the fast client under ``python -IS``) and as the console script."""

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sgp_node_agent import cni
from sgp_node_agent.cni_client import agent_socket, cni_request

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    dest = tmp_path_factory.mktemp("cni-bin")
    done = subprocess.run(
        [str(BIN / "sgp-node-agent"), "install-cni", "--dest", str(dest)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(dest / "sgp-cni")
    return dest / "sgp-cni"


@pytest.fixture(params=["installed", "console-script"])
def plugin(request, installed_plugin):
    return str(installed_plugin if request.param == "installed" else BIN / "sgp-cni")


def invoke(plugin, env: dict, config):
    full_env = {"PATH": os.environ.get("PATH", ""), **env}
    stdin = config if isinstance(config, str) else json.dumps(config)
    done = subprocess.run(
        [plugin], input=stdin, env=full_env, capture_output=True, text=True, timeout=30
    )
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done.stderr


def conf(tmp_path: Path, **extra):
    return {
        "cniVersion": "1.0.0",
        "name": "sgp",
        "type": "sgp-cni",
        "agentSocket": str(tmp_path / "none.sock"),
        "stateDir": str(tmp_path / "pods"),
        **extra,
    }


ADD_ENV = {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "c1",
    "CNI_NETNS": "/var/run/netns/none",
    "CNI_IFNAME": "eth0",
    "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=green;K8S_POD_UID=u1",
}


def test_version_lists_supported_versions(plugin):
    code, out, _ = invoke(plugin, {"CNI_COMMAND": "VERSION"}, {"cniVersion": "1.0.0"})
    assert code == 0
    assert out == {"cniVersion": "1.0.0", "supportedVersions": ["0.3.1", "0.4.0", "1.0.0"]}


@pytest.mark.parametrize(
    ("env", "config", "expected"),
    [
        (ADD_ENV, "{not json", 6),
        (ADD_ENV, {"cniVersion": "1.0.0", "type": "sgp-cni"}, 7),
        (ADD_ENV, {"cniVersion": "9.9.9", "name": "sgp"}, 1),
        ({**ADD_ENV, "CNI_CONTAINERID": ""}, None, 4),
        ({**ADD_ENV, "CNI_COMMAND": "BOGUS"}, None, 4),
    ],
)
def test_bad_calls_get_the_cni_error_json_and_a_nonzero_exit(
    plugin, tmp_path, env, config, expected
):
    code, out, stderr = invoke(plugin, env, config if config is not None else conf(tmp_path))
    assert code != 0
    assert out["code"] == expected and out["msg"] and out["cniVersion"]
    assert "Traceback" not in stderr


def test_add_without_the_daemon_asks_to_try_again_later(plugin, tmp_path):
    code, out, _ = invoke(plugin, ADD_ENV, conf(tmp_path))
    assert code == 1 and out["code"] == 11
    assert "not reachable" in out["msg"]


def test_del_of_an_unknown_pod_succeeds_without_the_daemon(plugin, tmp_path):
    env = {**ADD_ENV, "CNI_COMMAND": "DEL", "CNI_CONTAINERID": "never-added"}
    assert invoke(plugin, env, conf(tmp_path))[:2] == (0, None)


def test_del_with_an_empty_netns_succeeds(plugin, tmp_path):
    env = {**ADD_ENV, "CNI_COMMAND": "DEL", "CNI_NETNS": "", "CNI_ARGS": ""}
    assert invoke(plugin, env, conf(tmp_path))[:2] == (0, None)


def serve_in_background(server, reply, after: threading.Event | None = None) -> None:
    """Accept on ``server`` until it closes (once ``after`` is set, if given): read each
    request to its half-close and send ``reply(request)``."""

    def serve():
        if after is not None:
            after.wait()
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                conn.sendall(reply(data))

    threading.Thread(target=serve, daemon=True).start()


@pytest.fixture
def fake_daemon(tmp_path):
    """A unix socket that answers like sgp-node-agent and records the requests, parsed."""
    import socket

    path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    requests, replies = [], []

    def reply(data: bytes) -> bytes:
        requests.append(cni.parse_request(data))
        return replies.pop(0)

    serve_in_background(server, reply)
    yield path, requests, replies
    server.close()


def test_add_is_forwarded_as_it_came_and_the_daemons_bytes_printed(plugin, tmp_path, fake_daemon):
    path, requests, replies = fake_daemon
    result = {"cniVersion": "1.0.0", "interfaces": [], "ips": [], "routes": []}
    replies.append(b"0\n" + json.dumps(result).encode() + b"\n")
    config = json.dumps(conf(tmp_path, agentSocket=path), indent=1)
    code, out, _ = invoke(plugin, {**ADD_ENV, "OTHER": "not forwarded"}, config)
    assert (code, out) == (0, result)
    verb, env, stdin = requests[0]
    assert (verb, env, stdin) == ("CNI", ADD_ENV, config)


def test_daemon_errors_are_passed_through_with_their_exit_status(plugin, tmp_path, fake_daemon):
    path, _, replies = fake_daemon
    error = {"cniVersion": "1.0.0", "code": 11, "msg": "timed out", "details": "annotation"}
    replies.append(b"1\n" + json.dumps(error).encode() + b"\n")
    code, out, _ = invoke(plugin, ADD_ENV, conf(tmp_path, agentSocket=path))
    assert (code, out) == (1, error)


@pytest.mark.parametrize("command", ["ADD", "DEL", "CHECK"])
def test_a_daemon_that_took_the_call_and_broke_off_means_try_again(
    plugin, tmp_path, fake_daemon, command
):
    """The daemon may still be at work on the call: no local fallback (a DEL torn down
    here would race the daemon's own work), code 11 and the runtime's retry instead."""
    path, requests, replies = fake_daemon
    replies.append(b"")
    config = conf(tmp_path, agentSocket=path, cniVersion="0.4.0")
    code, out, _ = invoke(plugin, {**ADD_ENV, "CNI_COMMAND": command}, config)
    assert code == 1
    assert (out["code"], out["cniVersion"]) == (11, "0.4.0")
    assert "did not finish answering" in out["msg"]
    assert [verb for verb, _, _ in requests] == ["CNI"]


def test_the_installed_plugin_starts_without_site_and_forwards_without_json(
    installed_plugin, tmp_path, fake_daemon
):
    path, _, replies = fake_daemon
    replies.append(b"0\n")
    env = {**ADD_ENV, "CNI_COMMAND": "DEL"}
    shebang = installed_plugin.read_text().splitlines()[0]
    assert shebang.startswith(f"#!{BIN}/python") and shebang.endswith(" -IS")
    done = subprocess.run(
        [sys.executable, "-IS", "-X", "importtime", str(installed_plugin)],
        input=json.dumps(conf(tmp_path, agentSocket=path)),
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (done.returncode, done.stdout) == (0, "")
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines()}
    assert "_socket" in imported
    assert not {"site", "json", "socket", "sgp_node_agent"} & imported


@pytest.mark.parametrize(
    "env", [ADD_ENV, {}, {"CNI_ARGS": "", "CNI_NETNS": "", "CNI_COMMAND": "DEL"}]
)
@pytest.mark.parametrize("stdin", [b"", b'{"cniVersion": "1.0.0"}', b"\0\0{"])
def test_the_wire_format_carries_the_cni_environment_and_stdin_unchanged(env, stdin):
    assert cni.parse_request(cni_request(env, stdin)) == ("CNI", env, stdin.decode())


@pytest.mark.parametrize(
    ("stdin", "expected"),
    [
        (b' {"agentSocket": "/run/a.sock", "prevResult": {"agentSocket": "x"}}', "/run/a.sock"),
        (b'{"prevResult": {"agentSocket": "/nested"}}', "/run/sgp-node-agent/cni.sock"),
        (b'{"name": "\\"agentSocket\\": \\"/s\\""}', "/run/sgp-node-agent/cni.sock"),
        (b"{not json", "/run/sgp-node-agent/cni.sock"),
        (b"", "/run/sgp-node-agent/cni.sock"),
    ],
)
def test_the_client_reads_only_the_top_level_agent_socket(stdin, expected):
    assert agent_socket(stdin) == expected


def _fill_accept_queue(path: str) -> list:
    """Connect to ``path`` until its accept queue refuses with EAGAIN; the queued sockets."""
    import socket

    queued = []
    for _ in range(64):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(1.0)
        try:
            sock.connect(path)
        except BlockingIOError:
            sock.close()
            return queued
        queued.append(sock)
    raise AssertionError(f"the accept queue of {path} never filled")


def test_a_full_accept_queue_is_waited_for_not_taken_for_an_absent_daemon(tmp_path):
    """Many pods started together: a connect that finds the daemon's queue full retries
    until the daemon accepts, instead of falling back to "try again later"."""
    import socket

    from sgp_node_agent.cni_client import exchange

    path = str(tmp_path / "busy.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    queued = _fill_accept_queue(path)
    for sock in queued:  # the queue's own sockets half-close so that the server moves on
        sock.shutdown(socket.SHUT_WR)
    accepting = threading.Event()
    serve_in_background(server, lambda data: b"0\n" + data[-3:], after=accepting)
    threading.Timer(0.2, accepting.set).start()  # the client is retrying by then
    try:
        assert exchange(path, b"SETTLE\nabc") == (0, b"abc")
    finally:
        server.close()
        for sock in queued:
            sock.close()


def test_a_queue_that_stays_full_ends_the_connect_with_the_error(tmp_path):
    import socket

    from sgp_node_agent.cni_client import connect

    path = str(tmp_path / "stuck.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    queued = _fill_accept_queue(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(1.0)
    try:
        with pytest.raises(BlockingIOError):
            connect(sock, path, timeout=0.05)
    finally:
        for other in [sock, server, *queued]:
            other.close()


def test_the_daemon_socket_queues_as_many_callers_as_the_kernel_allows(tmp_path):
    """socketserver's default backlog of 5 made the sixth of many simultaneous sgp-cni calls
    fail while the daemon was still accepting the first ones."""
    import socketserver

    from sgp_node_agent import daemon

    path = str(tmp_path / "agent.sock")
    server = daemon._Server(path, socketserver.StreamRequestHandler)  # bound, not yet serving
    try:
        import socket

        callers = []
        for _ in range(32):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(1.0)
            callers.append(sock)
            sock.connect(path)  # BlockingIOError here if the queue were shallow
    finally:
        server.server_close()
        for sock in callers:
            sock.close()
