"""Run the project's WSGI app under gunicorn on loopback, for the process-level tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], *options: str, timeout: float = 20.0) -> Iterator[int]:
    """gunicorn serving ``sgpadmin.wsgi`` on 127.0.0.1 with ``env``; yields the port."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "sgpadmin.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        "--no-control-socket",
        *options,
    ]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, start_new_session=True, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start: {command}") from None
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
