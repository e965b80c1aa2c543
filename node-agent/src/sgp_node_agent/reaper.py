"""Deleting a pod's branch link after its DEL has been answered.

The kernel takes 15-30 ms to delete a network device (the RCU grace periods of netdev
unregistration), more than the rest of a DEL together, and nothing the runtime waits for
depends on it: once the rules and routes of the pod are gone, the link carries no traffic of
the pod. So the daemon's DEL renames ``vlan.eth.<id>`` to ``vlan.del.<id>`` (a rename costs
well under a millisecond and frees the VLAN's name at once), removes the rules and routes,
replies, and leaves the deletion to this reaper, which runs it on a thread and netlink socket
of its own.

The per-VLAN ordering: an ADD that plumbs a VLAN id first waits for that VLAN's pending
deletion (:meth:`LinkReaper.wait`), since the kernel refuses a second 802.1Q link with the same
id on the trunk. :meth:`LinkReaper.settle` waits for every pending deletion (the socket's
``SETTLE`` request, used by tests and benchmarks that look at the node right after a DEL). If
the daemon dies before a deletion ran, the ``vlan.del.<id>`` link is a leftover that the repair
loop removes, and an ADD of that VLAN id deletes it before creating its own link.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from .executor import Executor

log = logging.getLogger(__name__)


class LinkReaper:
    """Deletes host links in the background, one at a time, and knows which are pending."""

    def __init__(self, host_netns: str | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="link-reaper")
        self._executor: Executor = self._pool.submit(Executor, host_netns).result()
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def delete(self, name: str) -> None:
        """Queue the deletion of host link ``name``; returns at once."""
        with self._lock:
            future = self._pool.submit(self._delete, name)
            self._pending[name] = future
        future.add_done_callback(lambda done: self._forget(name, done))

    def _delete(self, name: str) -> None:
        try:
            self._executor.delete_host_link(name)
        except Exception as exc:  # the repair loop removes what is left
            log.warning("could not delete link %s: %s", name, exc)

    def _forget(self, name: str, done: Future) -> None:
        with self._lock:
            if self._pending.get(name) is done:
                del self._pending[name]

    def pending(self) -> list[str]:
        """Names of the links whose deletion is queued or running."""
        with self._lock:
            return sorted(self._pending)

    def wait(self, name: str) -> None:
        """Return once link ``name`` is no longer waiting for deletion."""
        with self._lock:
            future = self._pending.get(name)
        if future is not None:
            future.result()

    def settle(self) -> None:
        """Return once every deletion queued so far is done."""
        with self._lock:
            futures = list(self._pending.values())
        for future in futures:
            future.result()

    def close(self) -> None:
        self.settle()
        self._pool.submit(self._executor.close).result()
        self._pool.shutdown()
