"""The stand-ins run as their own processes (as the demo starts them)."""

import os
import selectors
import subprocess
import sys
from pathlib import Path

import pytest
from kubernetes import client, config

from standins.ec2 import EC2StandinControl, ec2_client

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 30


def first_line(process: subprocess.Popen) -> str:
    """The first stdout line, or a failure after START_SECONDS."""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(START_SECONDS):
            pytest.fail("the stand-in printed nothing")
    return process.stdout.readline().strip()


@pytest.fixture
def run():
    started = []

    def start(*args):
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        process = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_ec2_standin_process_serves_boto3_and_its_control_surface(run, tmp_path):
    url_file = tmp_path / "ec2.url"
    process = run(
        "standins.ec2",
        "--port",
        "0",
        "--throttle",
        "aws",
        "--latency-ms",
        "1",
        "--url-file",
        str(url_file),
    )
    url = first_line(process)
    assert url.startswith("http://127.0.0.1:")
    assert url_file.read_text().strip() == url
    assert ec2_client(url).describe_vpcs()["Vpcs"] is not None
    control = EC2StandinControl(url)
    assert control.config()["throttle"]["mutating"]["burst"] == 50
    assert control.calls("DescribeVpcs") == 1


def test_kubernetes_standin_process_serves_the_official_client(run, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    process = run("standins.kubernetes", "--port", "0", "--kubeconfig", str(kubeconfig))
    url = first_line(process)
    assert url.startswith("http://127.0.0.1:")
    api_client = config.new_client_from_config(str(kubeconfig))
    core = client.CoreV1Api(api_client)
    core.create_namespaced_pod(
        "default",
        {"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "app", "image": "busybox"}]}},
    )
    assert [p.metadata.name for p in core.list_namespaced_pod("default").items] == ["p1"]
    api_client.close()


def test_ec2_standin_process_keeps_its_state_across_restarts(run, tmp_path):
    state_file = tmp_path / "ec2-state.pickle"
    first = run("standins.ec2", "--port", "0", "--state-file", str(state_file))
    vpc_id = ec2_client(first_line(first)).create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    first.terminate()
    assert first.wait(20) == 0
    assert state_file.exists()

    second = run("standins.ec2", "--port", "0", "--state-file", str(state_file))
    vpcs = ec2_client(first_line(second)).describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["10.42.0.0/16"]
