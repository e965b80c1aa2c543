"""sgp-cni as a runtime sees it: env + stdin in, JSON out, exit status."""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

SGP_CNI = str(Path(sys.executable).parent / "sgp-cni")


def invoke(env: dict, config, tmp_path: Path):
    full_env = {"PATH": os.environ.get("PATH", ""), **env}
    stdin = config if isinstance(config, str) else json.dumps(config)
    done = subprocess.run(
        [SGP_CNI], input=stdin, env=full_env, capture_output=True, text=True, timeout=30
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


def test_version_lists_supported_versions(tmp_path):
    code, out, _ = invoke({"CNI_COMMAND": "VERSION"}, {"cniVersion": "1.0.0"}, tmp_path)
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
def test_bad_calls_get_the_cni_error_json_and_a_nonzero_exit(tmp_path, env, config, expected):
    code, out, stderr = invoke(env, config if config is not None else conf(tmp_path), tmp_path)
    assert code != 0
    assert out["code"] == expected and out["msg"] and out["cniVersion"]
    assert "Traceback" not in stderr


def test_add_without_the_daemon_asks_to_try_again_later(tmp_path):
    code, out, _ = invoke(ADD_ENV, conf(tmp_path), tmp_path)
    assert code == 1 and out["code"] == 11
    assert "not reachable" in out["msg"]


def test_del_of_an_unknown_pod_succeeds_without_the_daemon(tmp_path):
    env = {**ADD_ENV, "CNI_COMMAND": "DEL", "CNI_CONTAINERID": "never-added"}
    assert invoke(env, conf(tmp_path), tmp_path)[:2] == (0, None)


def test_del_with_an_empty_netns_succeeds(tmp_path):
    env = {**ADD_ENV, "CNI_COMMAND": "DEL", "CNI_NETNS": "", "CNI_ARGS": ""}
    assert invoke(env, conf(tmp_path), tmp_path)[:2] == (0, None)


@pytest.fixture
def fake_daemon(tmp_path):
    """A unix socket that answers like sgp-node-agent and records the requests."""
    path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    requests, replies = [], []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    data += conn.recv(65536)
                requests.append(json.loads(data))
                conn.sendall(json.dumps(replies.pop(0)).encode() + b"\n")

    threading.Thread(target=serve, daemon=True).start()
    yield path, requests, replies
    server.close()


def test_add_is_forwarded_and_the_daemons_result_printed(tmp_path, fake_daemon):
    path, requests, replies = fake_daemon
    result = {"cniVersion": "1.0.0", "interfaces": [], "ips": [], "routes": []}
    replies.append({"result": result})
    code, out, _ = invoke(ADD_ENV, conf(tmp_path, agentSocket=path), tmp_path)
    assert (code, out) == (0, result)
    assert requests[0]["env"]["CNI_ARGS"] == ADD_ENV["CNI_ARGS"]
    assert requests[0]["config"]["agentSocket"] == path


def test_daemon_errors_are_passed_through(tmp_path, fake_daemon):
    path, _, replies = fake_daemon
    replies.append(
        {"error": {"cniVersion": "1.0.0", "code": 11, "msg": "timed out", "details": "annotation"}}
    )
    code, out, _ = invoke(ADD_ENV, conf(tmp_path, agentSocket=path), tmp_path)
    assert code == 1
    assert (out["code"], out["msg"], out["details"]) == (11, "timed out", "annotation")
