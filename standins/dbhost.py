"""A real PostgreSQL server as a host of the namespace VPC, and a client inside a pod.

The tutorial's check is ``SELECT version()`` from a pod: :class:`PostgresServer` runs a
throwaway server (trust auth) in a namespace of :class:`standins.netlab.VpcLab`, and
:func:`query_from` runs one query from inside another namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .netlab import sh


def postgres_binaries() -> Path | None:
    """The PostgreSQL server binaries of this machine, if any."""
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists() and (candidate / "postgres").exists():
            return candidate
    return None


class PostgresServer:
    """A throwaway PostgreSQL server inside a namespace (trust auth, listening on ``ip``)."""

    def __init__(self, netns: str, ip: str, port: int = 5432) -> None:
        binaries = postgres_binaries()
        if binaries is None or shutil.which("runuser") is None:
            raise RuntimeError("no PostgreSQL server binaries on this machine")
        self.workdir = Path(tempfile.mkdtemp(prefix="sgp-rds-"))
        shutil.chown(self.workdir, "postgres", "postgres")
        data = self.workdir / "data"
        sh(
            "runuser",
            "-u",
            "postgres",
            "--",
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-A",
            "trust",
            "-U",
            "postgres",
            timeout=120,
        )
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\n")
        self.process = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                netns,
                "runuser",
                "-u",
                "postgres",
                "--",
                str(binaries / "postgres"),
                "-D",
                str(data),
                "-k",
                str(self.workdir),
                "-c",
                f"listen_addresses={ip}",
                "-p",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.netns, self.ip, self.port = netns, ip, port
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the PostgreSQL server stopped during start-up")
            if _ready(binaries, self.workdir, port):
                return
            time.sleep(0.2)
        raise RuntimeError("the PostgreSQL server did not start in 30 s")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait(5)
        shutil.rmtree(self.workdir, ignore_errors=True)


def _ready(binaries: Path, socket_dir: Path, port: int) -> bool:
    done = subprocess.run(
        [
            "runuser",
            "-u",
            "postgres",
            "--",
            str(binaries / "pg_isready"),
            "-q",
            "-h",
            str(socket_dir),
            "-p",
            str(port),
        ],
        capture_output=True,
        timeout=10,
    )
    return done.returncode == 0


def query_from(netns: str, ip: str, sql: str = "SELECT version()", timeout: int = 2) -> str | None:
    """Run one query against ``ip``:5432 from inside ``netns`` with psycopg; None on failure."""
    script = (
        "import sys, psycopg\n"
        f"conn = psycopg.connect(host={ip!r}, user='postgres', dbname='postgres', "
        f"connect_timeout={timeout})\n"
        f"print(conn.execute({sql!r}).fetchone()[0])\n"
    )
    done = subprocess.run(
        ["ip", "netns", "exec", netns, sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout + 20,
    )
    return done.stdout.strip() if done.returncode == 0 else None
