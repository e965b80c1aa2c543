"""`make demo` as a newcomer runs it: it plays the tutorial, and a second run keeps the data."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_demo(var_dir: Path) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "SGPADMIN_MODE": "demo",
        "SGPADMIN_VAR_DIR": str(var_dir),
        "SGPADMIN_DEMO_PORT": str(free_port()),
        "SGPADMIN_DEMO_EXIT_WHEN_READY": "1",
        "DJANGO_SETTINGS_MODULE": "sgpadmin.settings",
    }
    done = subprocess.run(
        [sys.executable, "-m", "sgpadmin.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout


def test_demo_plays_the_tutorial_and_keeps_its_data(tmp_path):
    first = run_demo(tmp_path)
    assert "webhook admitted postgres-test: requests vpc.amazonaws.com/pod-eni" in first
    assert "webhook admitted postgres-test-no-sa: no branch ENI" in first
    assert re.search(r"postgres-test: branch ENI eni-[0-9a-f]+ on VLAN \d+", first)
    if os.geteuid() == 0:
        assert "postgres-test: SELECT version() -> PostgreSQL" in first
        assert "postgres-test-no-sa: SELECT version() -> timed out" in first
    else:
        assert "not root: running without node plumbing" in first
    password = re.search(r"password (\S+)\)", first).group(1)

    second = run_demo(tmp_path)
    assert f"password {password})" in second  # same admin, same database
    assert re.search(r"postgres-test: branch ENI eni-[0-9a-f]+", second)

    import sqlite3

    with sqlite3.connect(tmp_path / "sgpadmin.sqlite3") as db:
        policies = db.execute("SELECT count(*) FROM policies_policy").fetchone()[0]
        refreshed = db.execute(
            "SELECT count(*) FROM audit_changerecord WHERE message LIKE 'demo restart%'"
        ).fetchone()[0]
    assert policies == 1
    assert refreshed >= 1  # the new stand-ins' ids reached the kept policy through the API
