"""Constants shared by ``sgp-cni`` and the daemon. Imports nothing: the plugin loads it on every
CNI call."""

SUPPORTED_VERSIONS = ("0.3.1", "0.4.0", "1.0.0")
DEFAULT_SOCKET = "/run/sgp-node-agent/cni.sock"
DEFAULT_STATE_DIR = "/run/sgp-node-agent/pods"
