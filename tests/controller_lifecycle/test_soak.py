"""End-to-end fault soak: attach/detach cycles through real Celery workers on a private Redis,
with worker SIGKILLs, 20% EC2 errors and throttles, and a Redis restart (benchmarks/soak.py).

The default count here is 80 cycles to stay within ~5 minutes on a 2-core machine;
``make soak`` runs 300 (``SOAK_CYCLES``). The figures are printed (``pytest -s``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("DATABASE_URL", "")

pytestmark = [
    pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="needs PostgreSQL"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]


def test_soak_settles_with_nothing_leaked_or_doubled(tmp_path):
    cycles = int(os.environ.get("SOAK_TEST_CYCLES", "80"))
    database = PG_URL.rsplit("/", 1)[0] + "/sgpadmin_soak_test"
    report_file = tmp_path / "soak.json"
    env = {**os.environ, "SGPADMIN_MODE": "test"}
    soak = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks" / "soak.py"), f"--cycles={cycles}",
         f"--database-url={database}", "--timeout=240", "--settle-timeout=90",
         "--kill-every=12", f"--log-dir={tmp_path / 'logs'}", f"--json={report_file}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = soak.communicate(timeout=420)
    finally:
        if soak.poll() is None:  # SIGTERM lets it stop its workers and redis-server
            soak.terminate()
            try:
                soak.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                soak.kill()
                soak.communicate()
    assert report_file.exists(), err[-3000:]
    report = json.loads(report_file.read_text())
    print(json.dumps(report, indent=2, sort_keys=True))
    assert report["cycles_completed"] >= cycles
    assert report["worker_kills"] >= 1 and report["redis_restarts"] == 1
    assert sum(sum(v.values()) for v in report["ec2_injected"].values()) > 0
    assert report["settled"], report
    for figure in ("leaked_enis", "untracked_enis", "wrong_groups", "two_enis", "vlan_twice",
                   "vlan_mismatch", "unexplained"):
        assert report[figure] == [], (figure, report[figure])
    assert report["leaked_rows"] == 0
    assert report["annotated_pods"] == report["live_pods"] > 0
    assert report["ok"] and soak.returncode == 0
