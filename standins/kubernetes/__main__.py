"""Run the Kubernetes stand-in as its own process.

    python -m standins.kubernetes --port 0 --url-file /tmp/kube.url --kubeconfig /tmp/kubeconfig

Prints the URL (``http://127.0.0.1:<port>``) on the first line of stdout, writes it to
``--url-file`` if given, then serves until interrupted. Point the official client at it with
``standins.kubernetes.api_client(url)`` or a kubeconfig whose server is that URL.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from standins.kubernetes.server import KubeStandin


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standins.kubernetes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--watch-history",
        type=int,
        default=10_000,
        help="events kept for resuming watches; older ones answer 410 Gone",
    )
    parser.add_argument("--url-file", type=Path, help="also write the URL here")
    parser.add_argument(
        "--kubeconfig", type=Path, help="also write a kubeconfig for the stand-in here"
    )
    args = parser.parse_args(argv)

    standin = KubeStandin(port=args.port, watch_history=args.watch_history).start()
    if args.url_file:
        args.url_file.write_text(standin.url + "\n")
    if args.kubeconfig:
        standin.write_kubeconfig(args.kubeconfig)
    print(standin.url, flush=True)  # last: once it is printed, the files are there
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    standin.stop()


if __name__ == "__main__":
    main()
