"""Creating and attaching a node's trunk ENI, strictly in upstream's order (reference §3.3).

create (InterfaceType trunk, three tags) -> INSTANCE-ATTACH permission -> attach at the given
device index -> DeleteOnTermination -> wait until ``attached``. A failure at any step removes
what was made (detaching first where needed); the trunk is never deleted once in service.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable

from apps.controller.ports.ec2 import CreatedENI, EC2Port

log = logging.getLogger(__name__)

# Upstream: backoff 1 s, x2, jitter 0.1, 7 steps. Tests shorten it through ``sleep``.
ATTACH_WAIT_STEPS = 7


class TrunkSetupError(Exception):
    pass


def wait_until_attached(ec2: EC2Port, eni_id: str,
                        sleep: Callable[[float], None] = time.sleep) -> bool:
    delay = 1.0
    for _ in range(ATTACH_WAIT_STEPS):
        if ec2.attachment_status(eni_id) == "attached":
            return True
        sleep(delay * (1 + random.uniform(0, 0.1)))
        delay *= 2
    return ec2.attachment_status(eni_id) == "attached"


def _remove(ec2: EC2Port, eni_id: str, attachment_id: str | None,
            sleep: Callable[[float], None]) -> None:
    """Best-effort cleanup of a trunk that did not make it into service."""
    try:
        if attachment_id:
            ec2.detach(attachment_id)
            for _ in range(10):
                if ec2.attachment_status(eni_id) in ("", "detached"):
                    break
                sleep(0.5)
        ec2.delete_eni(eni_id)
    except Exception:  # the original error matters more; the leak sweep (issue 4) remains
        log.exception("could not remove the failed trunk %s", eni_id)


def create_and_attach_trunk(
    ec2: EC2Port, *, instance_id: str, subnet_id: str, group_ids: list[str], account_id: str,
    cluster_name: str, device_index: int, sleep: Callable[[float], None] = time.sleep,
) -> tuple[CreatedENI, str]:
    """The new trunk and its attachment id; raises with nothing left behind on failure."""
    trunk = ec2.create_trunk(subnet_id, group_ids, instance_id, cluster_name)
    attachment_id = None
    try:
        ec2.grant_instance_attach(trunk.eni_id, account_id)
        attachment_id = ec2.attach(trunk.eni_id, instance_id, device_index)
        ec2.set_delete_on_termination(trunk.eni_id, attachment_id)
        if not wait_until_attached(ec2, trunk.eni_id, sleep):
            raise TrunkSetupError(f"trunk {trunk.eni_id} did not reach 'attached' in time")
    except BaseException:
        _remove(ec2, trunk.eni_id, attachment_id, sleep)
        raise
    return trunk, attachment_id
