"""Kubernetes stand-in: kmock's emulator, completed where the API server does more.

Start one in-process with :class:`KubeStandin` (``with KubeStandin() as kube: ...``) or as
its own process with ``python -m standins.kubernetes --port 0``; get an official-client
``ApiClient`` with :func:`api_client`. What the emulator adds to kmock, and what it still
does not do, is in :mod:`standins.kubernetes.emulator`.
"""

from standins.kubernetes.emulator import KubeApiEmulator
from standins.kubernetes.resources import SERVED_RESOURCES, ServedResource
from standins.kubernetes.server import KubeStandin, api_client, write_kubeconfig

__all__ = [
    "SERVED_RESOURCES",
    "KubeApiEmulator",
    "KubeStandin",
    "ServedResource",
    "api_client",
    "write_kubeconfig",
]
