"""Shared fixtures for the node agent tests. Nothing here needs Django."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # lab, harness and kube_emulator helpers

import netns_support
from kube_emulator import EmulatedKubernetes
from lab import Lab


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="network namespace tests need root")
    for item in items:
        if "netns" in item.keywords:
            item.add_marker(skip)


# --- network-namespace fixtures (tests marked netns) -------------------------------------------


@pytest.fixture(scope="module")
def kube():
    emulator = EmulatedKubernetes().start()
    yield emulator
    emulator.stop()


@pytest.fixture
def lab(request):
    lab = Lab()
    request.addfinalizer(lab.down)
    return lab.up()


@pytest.fixture
def node_factory(lab, kube, tmp_path, request):
    def start(mode="strict", early_demux_off=True, **changes):
        node = netns_support.make_node(lab, kube, tmp_path, mode, early_demux_off)
        request.addfinalizer(node.stop)
        return node.start(**changes)

    return start
