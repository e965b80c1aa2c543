"""Deleting a pod's branch link after its DEL has been answered.

The kernel takes 15-30 ms to delete a network device (the RCU grace periods of netdev
unregistration), more than the rest of a DEL together, and nothing the runtime waits for
depends on it: once the rules and routes of the pod are gone, the link carries no traffic of
the pod. So the daemon's DEL renames ``vlan.eth.<id>`` to ``vlan.del.<id>`` and puts it into
link group ``RETIRED_LINK_GROUP`` (one request, well under a millisecond, and the VLAN's name is
free at once), removes the rules and routes, replies, and leaves the deletion to this reaper.
The reaper runs on a thread and netlink socket of its own and deletes the whole group in one
request, so a burst of DELs costs one unregistration wait, not one per pod (measured: 20 links
in 23 ms instead of 470 ms).

The per-VLAN ordering: an ADD that plumbs a VLAN id first waits for that VLAN's pending
deletion (:meth:`LinkReaper.wait`), since the kernel refuses a second 802.1Q link with the same
id on the trunk. :meth:`LinkReaper.settle` waits for every pending deletion (the socket's
``SETTLE`` request, used by tests and benchmarks that look at the node right after a DEL). If
the daemon dies before a deletion ran, the ``vlan.del.<id>`` link is a leftover: the repair
loop removes it, an ADD of that VLAN id deletes it before creating its own link, and the next
group deletion of a new daemon takes it too.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from .executor import Executor
from .names import RETIRED_LINK_GROUP

log = logging.getLogger(__name__)


class LinkReaper:
    """Deletes retired branch links in the background and knows which are pending."""

    def __init__(self, host_netns: str | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="link-reaper")
        self._executor: Executor = self._pool.submit(Executor, host_netns).result()
        self._changed = threading.Condition()
        self._pending: set[str] = set()
        self._scheduled = False

    def delete(self, name: str) -> None:
        """Queue the deletion of ``name``, a link already in ``RETIRED_LINK_GROUP``."""
        with self._changed:
            self._pending.add(name)
            if not self._scheduled:
                self._scheduled = True
                self._pool.submit(self._delete_group)

    def _delete_group(self) -> None:
        with self._changed:
            self._scheduled = False  # what is queued from now on gets a request of its own
            batch = set(self._pending)
        try:
            self._executor.delete_link_group(RETIRED_LINK_GROUP)
        except Exception as exc:  # the repair loop removes what is left
            log.warning("could not delete links %s: %s", ", ".join(sorted(batch)), exc)
        with self._changed:
            self._pending -= batch
            self._changed.notify_all()

    def pending(self) -> list[str]:
        """Names of the links whose deletion is queued or running."""
        with self._changed:
            return sorted(self._pending)

    def wait(self, name: str) -> None:
        """Return once link ``name`` is no longer waiting for deletion."""
        with self._changed:
            self._changed.wait_for(lambda: name not in self._pending)

    def settle(self) -> None:
        """Return once no deletion is pending."""
        with self._changed:
            self._changed.wait_for(lambda: not self._pending)

    def close(self) -> None:
        self.settle()
        self._pool.submit(self._executor.close).result()
        self._pool.shutdown()
