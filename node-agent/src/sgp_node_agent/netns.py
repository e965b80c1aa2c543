"""Entering a network namespace for the calling thread only (setns(2) with CLONE_NEWNET).

Netlink sockets keep the namespace they were created in, so the executor enters a namespace just
long enough to open its sockets and write its sysctls. This costs well under a millisecond,
where a forked helper per namespace (pyroute2's ``netns=``) costs several.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def open_netns(path: str) -> int:
    """A file descriptor for the namespace at ``path`` (``/var/run/netns/x``, ``/proc/N/ns/net``)."""
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


def current_netns() -> int:
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


@contextmanager
def entered(fd: int | None) -> Iterator[None]:
    """Run the block in namespace ``fd`` (None = stay where we are), then come back."""
    if fd is None:
        yield
        return
    own = current_netns()
    try:
        _setns(fd)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)


def write_sysctl(path: str, value: str, optional: bool = True) -> bool:
    """Write ``/proc/sys/<path>`` in the calling thread's namespace. Returns False when the
    entry does not exist and ``optional`` is set (e.g. IPv6 disabled)."""
    try:
        with open(f"/proc/sys/{path}", "w") as handle:
            handle.write(value)
    except FileNotFoundError:
        if optional:
            return False
        raise
    return True


def read_sysctl(path: str) -> str | None:
    try:
        with open(f"/proc/sys/{path}") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        return None


SIOCGIFHWADDR = 0x8927


def link_index(name: str) -> int | None:
    """Index of a link in the calling thread's namespace, None if absent (no netlink dump)."""
    try:
        return socket.if_nametoindex(name)
    except OSError:
        return None


def link_mac(name: str) -> str | None:
    """MAC of a link in the calling thread's namespace, None if absent (one ioctl)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            raw = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, struct.pack("256s", name.encode()[:15]))
        except OSError:
            return None
    return ":".join(f"{octet:02x}" for octet in raw[18:24])
