import socket
import urllib.request

from prometheus_client import Counter

from worker.metrics import serve_metrics_if_asked

PROBE = Counter("sgpadmin_test_worker_probe", "A counter only this test increments.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_endpoint_is_off_unless_a_port_is_given(monkeypatch):
    monkeypatch.delenv("SGPADMIN_WORKER_METRICS_PORT", raising=False)
    assert serve_metrics_if_asked() is None


def test_endpoint_serves_the_process_counters(monkeypatch):
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    monkeypatch.setenv("SGPADMIN_WORKER_METRICS_PORT", str(free_port()))
    monkeypatch.setenv("SGPADMIN_WORKER_METRICS_ADDRESS", "127.0.0.1")
    port = serve_metrics_if_asked()
    PROBE.inc(3)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "sgpadmin_test_worker_probe_total 3.0" in body
