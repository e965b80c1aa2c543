import io
import os
import sys
import time

from sgpadmin.demo.processes import ProcessGroup

SLEEPER = [sys.executable, "-c", "import time, sys; print('up', flush=True); time.sleep(60)"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_stop_ends_every_child_and_its_children(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    grandchild_script = (
        "import pathlib, subprocess, sys, time;"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid)); time.sleep(60)"
    )
    group = ProcessGroup(out=io.StringIO(), stop_timeout=5)
    first = group.start("a", SLEEPER)
    second = group.start("b", [sys.executable, "-c", grandchild_script])
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the child never started its own child"
        time.sleep(0.05)
    grandchild_pid = int(pid_file.read_text())
    group.stop()
    assert first.process.poll() is not None
    assert second.process.poll() is not None
    deadline = time.monotonic() + 5
    while _alive(grandchild_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild_pid)


def test_wait_returns_the_child_that_exited_and_output_is_prefixed():
    out = io.StringIO()
    with ProcessGroup(out=out, stop_timeout=5) as group:
        group.start("sleeper", SLEEPER)
        quitter = group.start("quitter", [sys.executable, "-c", "print('bye')"])
        exited = group.wait(poll=0.05)
        assert exited is quitter
    assert "   quitter | bye" in out.getvalue()


def test_a_sigterm_to_the_demo_stops_every_child(tmp_path):
    """``kill`` or a supervisor stopping the demo must not leave its servers running (they
    run in sessions of their own, so nothing else would reach them)."""
    import signal
    import subprocess

    pid_file = tmp_path / "child.pid"
    parent_script = (
        "import pathlib, sys, time\n"
        "from sgpadmin.demo.processes import ProcessGroup\n"
        "with ProcessGroup(stop_timeout=5) as group:\n"
        "    child = group.start('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"    pathlib.Path({str(pid_file)!r}).write_text(str(child.process.pid))\n"
        "    group.wait(poll=0.05)\n"
        "print('stopped', flush=True)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", parent_script], stdout=subprocess.PIPE,
                              text=True, cwd=os.getcwd())
    try:
        deadline = time.monotonic() + 20
        while not pid_file.exists() or not pid_file.read_text():
            assert parent.poll() is None and time.monotonic() < deadline, "never started"
            time.sleep(0.05)
        child_pid = int(pid_file.read_text())
        parent.send_signal(signal.SIGTERM)
        out, _ = parent.communicate(timeout=20)
    finally:
        if parent.poll() is None:
            parent.kill()
    assert (parent.returncode, out) == (0, "stopped\n")
    deadline = time.monotonic() + 5
    while _alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child_pid)
