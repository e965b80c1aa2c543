"""Constants shared by the plugin and the daemon. The plugin file (:mod:`.cni_client`) stands
alone, so the default socket is defined there."""

from .cni_client import DEFAULT_SOCKET

__all__ = ["DEFAULT_SOCKET", "DEFAULT_STATE_DIR", "SUPPORTED_VERSIONS"]

SUPPORTED_VERSIONS = ("0.3.1", "0.4.0", "1.0.0")
DEFAULT_STATE_DIR = "/run/sgp-node-agent/pods"
