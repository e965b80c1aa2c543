"""Saving and restoring the EC2 stand-in's state, so the demo survives a restart of it.

moto keeps EC2 state in memory only. Its per-region EC2 backends (with our associations and
permissions, which live on them) pickle whole; this module writes them to one file and puts
them back. The file is a local cache written by the stand-in itself: load only files it wrote.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from moto.ec2.models import ec2_backends


def save_state(path: str | Path) -> int:
    """Write every EC2 backend in use to ``path`` (atomically); return how many."""
    snapshot = {
        (account, region): ec2_backends[account][region]
        for account in list(ec2_backends.keys())
        for region in list(ec2_backends[account].keys())
    }
    data = pickle.dumps(snapshot)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return len(snapshot)


def load_state(path: str | Path) -> int:
    """Put back the backends saved by :func:`save_state`; return how many."""
    snapshot = pickle.loads(Path(path).read_bytes())  # our own file (see the module docstring)
    for (account, region), backend in snapshot.items():
        ec2_backends[account][region] = backend
    return len(snapshot)
