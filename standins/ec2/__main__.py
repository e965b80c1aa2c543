"""Run the EC2 stand-in as its own process.

    python -m standins.ec2 --port 0 --throttle aws --latency-ms 150 --url-file /tmp/ec2.url \
        --state-file var/ec2-state.pickle

Prints the endpoint URL on the first line of stdout (and writes it to ``--url-file``), then
serves until interrupted. Run-time changes go through ``/_standin/config`` (see limits.py).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from standins.ec2.server import EC2Standin
from standins.ec2.state import load_state, save_state


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m standins.ec2",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--throttle", choices=["off", "aws"], default="off", help="apply AWS's EC2 token buckets"
    )
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every call")
    parser.add_argument(
        "--latency-jitter-ms", type=float, default=0, help="plus a uniform random 0..N ms per call"
    )
    parser.add_argument(
        "--faults",
        default="[]",
        help='JSON list of faults, e.g. \'[{"actions":["*"],"rate":0.05}]\'',
    )
    parser.add_argument("--seed", type=int, default=None, help="seed for fault injection")
    parser.add_argument(
        "--no-trunking",
        action="store_true",
        help="behave like an account that is not allow-listed for trunking",
    )
    parser.add_argument("--url-file", type=Path, help="also write the endpoint URL here")
    parser.add_argument(
        "--state-file",
        type=Path,
        help="load EC2 state from here at start (if present), save it at exit",
    )
    parser.add_argument(
        "--save-every", type=float, default=0, help="with --state-file, also save every N seconds"
    )
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    standin = EC2Standin(
        port=args.port,
        verbose=args.verbose,
        throttle="aws" if args.throttle == "aws" else None,
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        faults=json.loads(args.faults),
        seed=args.seed,
        trunking_enabled=not args.no_trunking,
    )
    if args.state_file and args.state_file.exists():
        load_state(args.state_file)
    standin.start()
    if args.url_file:
        args.url_file.write_text(standin.endpoint_url + "\n")
    print(standin.endpoint_url, flush=True)  # last: once it is printed, the file is there
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    while not stopped.wait(args.save_every or None):
        if args.state_file:
            save_state(args.state_file)
    standin.stop()
    if args.state_file:
        save_state(args.state_file)
    sys.exit(0)


if __name__ == "__main__":
    main()
