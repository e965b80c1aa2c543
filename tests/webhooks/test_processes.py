"""Across real processes: gunicorn with two workers answers from its caches, and a policy
written by a *different* process is seen by every worker within a second (the file
version stamp under VAR_DIR is the only thing they share besides the database)."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest

from .factories import pod, review
from .servers import ROOT, gunicorn

pytestmark = pytest.mark.slow

SETUP = """
import django; django.setup()
from apps.inventory.models import Cluster, ServiceAccount
cluster = Cluster.objects.create(name="prod", vpc_id="vpc-0123456789abcdef0")
ServiceAccount.objects.create(cluster=cluster, namespace="shop", name="default", labels={})
"""
ADD_POLICY = """
import django; django.setup()
from apps.inventory.models import Cluster
from apps.policies.models import Policy
Policy.objects.create(
    cluster=Cluster.objects.get(name="prod"), namespace="shop", name="db",
    spec={"podSelector": {"matchLabels": {"app": "db"}}, "securityGroups": {"groupIds": ["sg-1"]}},
)
"""


@pytest.fixture
def server(tmp_path):
    for folder in ("queue", "processed"):
        (tmp_path / "broker" / folder).mkdir(parents=True)
    env = {
        **os.environ,
        "SGPADMIN_MODE": "production",
        "SECRET_KEY": "process-test-key",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SGPADMIN_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "DJANGO_SETTINGS_MODULE": "sgpadmin.settings",
        "LOG_LEVEL": "WARNING",
    }
    python = [sys.executable]
    subprocess.run(
        [*python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    subprocess.run([*python, "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True)
    with gunicorn(env, "--workers=2") as port:
        yield port, env


def ask(port: int) -> bool:
    """Whether a matching pod gets a patch, asked over a fresh connection (either worker)."""
    body = json.dumps(review(pod(namespace="shop", labels={"app": "db"}), namespace="shop"))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.request(
        "POST", "/mutate-v1-pod", body=body, headers={"Content-Type": "application/json"}
    )
    response = connection.getresponse()
    answer = json.loads(response.read())["response"]
    connection.close()
    assert response.status == 200 and answer["allowed"]
    return "patch" in answer


def test_a_policy_written_by_another_process_reaches_every_worker_within_a_second(server):
    port, env = server
    assert not any(ask(port) for _ in range(20))  # both workers warm, nothing matches
    subprocess.run(
        [sys.executable, "-c", ADD_POLICY], cwd=ROOT, env=env, check=True, capture_output=True
    )
    written = time.monotonic()
    last_stale, streak = written, 0
    while streak < 20:  # twenty patched answers in a row: both workers have the policy
        assert time.monotonic() - written < 10, "the workers never all saw the policy"
        if ask(port):
            streak += 1
        else:
            last_stale, streak = time.monotonic(), 0
    assert last_stale - written < 1.0, "a worker still answered from the old policies after 1 s"
