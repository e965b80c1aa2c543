"""Shared fixtures for the node agent tests. Nothing here needs Django."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lab, harness and kube_emulator helpers


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="network namespace tests need root")
    for item in items:
        if "netns" in item.keywords:
            item.add_marker(skip)
