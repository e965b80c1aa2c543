"""``sgp-node-agent install-cni``: put the ``sgp-cni`` plugin where the container runtime looks
for CNI plugins (``/opt/cni/bin`` on a node), as upstream's aws-node init container copies its
binaries there.

The plugin is :mod:`sgp_node_agent.cni_client` behind the shebang ``#!<python> -IS``: isolated
mode without ``site``, the fastest Python start-up (the client needs nothing from site-packages
until it falls back to the full package, and then loads ``site`` itself). The kernel passes
everything after the interpreter as one argument, hence ``-IS`` rather than ``-I -S``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import cni_client

PLUGIN_NAME = "sgp-cni"


def plugin_text(python: str) -> str:
    return f"#!{python} -IS\n" + Path(cni_client.__file__).read_text()


def install_plugin(dest: str | os.PathLike, python: str = sys.executable) -> Path:
    """Write ``<dest>/sgp-cni`` (mode 0755) atomically: a runtime calling the plugin while it is
    being replaced runs the old file or the new one, never half of one."""
    directory = Path(dest)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / PLUGIN_NAME
    tmp = directory / f".{PLUGIN_NAME}.tmp"
    tmp.write_text(plugin_text(python))
    tmp.chmod(0o755)
    os.replace(tmp, path)
    return path
