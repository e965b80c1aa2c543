"""pytest fixtures for the stand-ins; the root conftest registers this module as a plugin
(``pytest_plugins = ["standins.pytest_fixtures"]``).

- ``ec2_standin`` (session): one :class:`~standins.ec2.EC2Standin` on a free loopback port.
- ``ec2`` (function): the same server, emptied (moto state, counters) and set back to the
  default configuration (no throttling, latency or faults) before the test.
- ``ec2_client`` / ``ec2_seeder``: boto3 clients for it; the seeder bypasses limits and counters.
- ``kube_standin`` (session): one :class:`~standins.kubernetes.KubeStandin`.
- ``kube`` (function): the same server, emptied (back to the initial namespaces).
- ``kube_api_client``: an official-client ``ApiClient`` for it.

moto keeps its state per process, so all EC2 stand-ins (and ``moto.mock_aws``) in one process
share it: use these fixtures rather than starting more servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from standins.ec2 import EC2Standin, use_safe_aws_environment
from standins.ec2.limits import DEFAULT_CONFIG
from standins.kubernetes import KubeStandin


@pytest.fixture(scope="session")
def ec2_standin() -> Iterator[EC2Standin]:
    use_safe_aws_environment()
    standin = EC2Standin()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture
def ec2(ec2_standin: EC2Standin) -> EC2Standin:
    ec2_standin.limits.reset()
    ec2_standin.limits.configure(dict(DEFAULT_CONFIG))
    return ec2_standin


@pytest.fixture
def ec2_client(ec2: EC2Standin) -> Any:
    return ec2.client()


@pytest.fixture
def ec2_seeder(ec2: EC2Standin) -> Any:
    return ec2.seeder()


@pytest.fixture(scope="session")
def kube_standin() -> Iterator[KubeStandin]:
    standin = KubeStandin().start()
    yield standin
    standin.stop()


@pytest.fixture
def kube(kube_standin: KubeStandin) -> KubeStandin:
    kube_standin.reset()
    return kube_standin


@pytest.fixture
def kube_api_client(kube: KubeStandin) -> Iterator[Any]:
    client = kube.api_client()
    yield client
    client.close()
