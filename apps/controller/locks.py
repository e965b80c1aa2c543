"""Serialisation of controller work that must not run twice at once.

- **Per pod**: one attach at a time per pod UID, held across the EC2 calls, so a duplicated
  or redelivered task never gives a pod two ENIs. On PostgreSQL a session advisory lock
  (released by the server if the worker dies); elsewhere an ``fcntl`` lock file under
  ``VAR_DIR/locks`` (released by the kernel if the process dies).
- **Per node**: trunk setup holds the same kind of lock for the node name. Capacity check and VLAN reservation run in a transaction holding
  ``SELECT ... FOR UPDATE`` on the trunk row (PostgreSQL); SQLite serialises writers itself.
  The reservation is a committed ``creating`` branch row, and the database's unique
  constraint on (trunk, live VLAN) is the last line of defence.

Both are *try* locks for pods: a second worker that finds the pod busy requeues instead of
waiting, so no worker sits idle behind another.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection


def locked(queryset):
    """``SELECT ... FOR UPDATE`` of the queryset's own rows only. The inventory models' default
    ordering joins the cluster table (for its name), and a plain ``FOR UPDATE`` would lock the
    joined rows too: the cluster's row, which every worker of the cluster would then queue on."""
    return queryset.select_for_update(of=("self",))


def _key(*parts: object) -> int:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def pod_lock(cluster_id: int, pod_uid: str):
    """Yields True when this process now owns the pod's attach, False when another does."""
    return try_lock("pod", cluster_id, pod_uid)


def node_lock(cluster_id: int, node_name: str):
    """Yields True when this process now owns the node's trunk setup."""
    return try_lock("node", cluster_id, node_name)


@contextlib.contextmanager
def try_lock(kind: str, cluster_id: int, ident: str) -> Iterator[bool]:
    key = _key("sgpadmin", kind, cluster_id, ident)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    directory = Path(settings.VAR_DIR) / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / f"{kind}-{key & 0xFFFFFFFFFFFF:x}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
