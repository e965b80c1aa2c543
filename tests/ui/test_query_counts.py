"""List pages run a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    BranchENIFactory,
    NodeFactory,
    PodFactory,
    PolicyFactory,
    SecurityGroupFactory,
    TrunkENIFactory,
)

ADDERS = {
    "policies:policy_list": lambda w, i: PolicyFactory(cluster=w.alpha, name=f"bulk-{i}"),
    "inventory:node_list": lambda w, i: BranchENIFactory(
        trunk=TrunkENIFactory(node=NodeFactory(cluster=w.alpha, name=f"bulk-{i}")), vlan_id=1
    ),
    "inventory:pod_list": lambda w, i: PodFactory(cluster=w.alpha, name=f"bulk-{i}"),
    "inventory:securitygroup_list": lambda w, i: SecurityGroupFactory(cluster=w.alpha),
    "audit:change_list": lambda w, i: PolicyFactory(cluster=w.alpha, name=f"logged-{i}"),
    "core:home": lambda w, i: NodeFactory(cluster=w.alpha, name=f"home-{i}"),
}


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url_name", sorted(ADDERS))
def test_list_query_count_does_not_grow_with_rows(url_name, world, viewer):
    url = reverse(url_name)
    viewer.get(url)  # warm caches (content types, sessions)
    ADDERS[url_name](world, 0)
    few = count_queries(viewer, url)
    for i in range(1, 21):
        ADDERS[url_name](world, i)
    assert count_queries(viewer, url) == few
