"""Start a group of child processes, stream their output with a name prefix, and stop
them all together (Ctrl-C, SIGTERM or SIGHUP, or any child dying) so that nothing is left
running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None


class ProcessGroup:
    """Children run in their own process groups, so a stop reaches their children too."""

    def __init__(self, out=sys.stdout, stop_timeout: float = 10.0):
        self.children: list[Child] = []
        self.out = out
        self.stop_timeout = stop_timeout
        self._lock = threading.Lock()
        self._previous_handlers: dict[int, object] = {}

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        child = Child(name=name, argv=list(argv), env=dict(env or {}))
        child.process = subprocess.Popen(
            child.argv,
            env={**os.environ, **child.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._pump, args=(child,), daemon=True).start()
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.process is not None and child.process.stdout is not None
        for line in child.process.stdout:
            with self._lock:
                self.out.write(f"{child.name:>10} | {line}")
                self.out.flush()

    def first_exited(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None

    def wait(self, poll: float = 0.5) -> Child | None:
        """Block until a child exits (returned) or Ctrl-C (None)."""
        try:
            while True:
                exited = self.first_exited()
                if exited is not None:
                    return exited
                time.sleep(poll)
        except KeyboardInterrupt:
            return None

    def stop(self) -> None:
        """SIGTERM every child's process group, then SIGKILL what is still alive."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for child in self.children:
            remaining = max(0.0, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.process.wait()

    def __enter__(self) -> ProcessGroup:
        """Within the block, SIGTERM and SIGHUP (``kill``, a closed terminal, a supervisor)
        stop the group as Ctrl-C does: the children run in sessions of their own, so a
        signal to ours alone would leave them running."""
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous_handlers[sig] = signal.signal(sig, _interrupt)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            for sig, handler in self._previous_handlers.items():
                signal.signal(sig, handler)  # type: ignore[arg-type]
            self._previous_handlers.clear()


def wait_for(what: str, check, timeout: float = 60.0, every: float = 0.5):
    """``check()``'s first true answer, polled every ``every`` seconds; TimeoutError after
    ``timeout`` seconds, naming ``what`` was awaited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise TimeoutError(f"timed out waiting for {what}")


def stop_process(process: subprocess.Popen | None, grace: float = 10.0) -> None:
    """SIGTERM one process, SIGKILL it if it is still alive after ``grace`` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _signal_group(child: Child, sig: int) -> None:
    if child.process is None or child.process.poll() is not None:
        return
    try:
        os.killpg(child.process.pid, sig)
    except ProcessLookupError:
        pass
