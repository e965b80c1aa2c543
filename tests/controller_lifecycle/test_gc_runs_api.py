"""GC runs are visible read-only: /api/gc-runs/ (generic battery: scope, roles, ETags,
405 on writes, query count) and the Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.controller.models import GCRun, GCRunKind
from apps.core.testing.api import ReadOnlyEndpointTests
from apps.core.testing.clients import client_with_role


def make_run(cluster, kind=GCRunKind.SWEEP, **fields):
    now = timezone.now()
    return GCRun.objects.create(kind=kind, cluster=cluster, started=now, finished=now,
                                details={"candidates": ["eni-0123"]}, **fields)


class TestGCRunAPI(ReadOnlyEndpointTests):
    basename = "gcrun"

    def make_object(self, cluster):
        return make_run(cluster)


def test_gc_runs_show_their_record_and_filter(alpha):
    make_run(alpha, found=2, deleted=1)
    make_run(alpha, GCRunKind.LEAK_CHECK, node_name="node-0", error="API server unreachable")
    client = client_with_role("viewer", alpha)
    url = reverse("gcrun-list")
    body = client.get(url, {"kind": "sweep"}).json()
    [run] = body["results"]
    assert run["cluster"] == "alpha" and run["found"] == 2 and run["deleted"] == 1
    assert run["details"] == {"candidates": ["eni-0123"]}
    [failed] = client.get(url, {"failed": "true"}).json()["results"]
    assert failed["kind"] == "leak_check" and failed["node_name"] == "node-0"
    assert len(client.get(url, {"deleted_some": "true"}).json()["results"]) == 1


@pytest.mark.django_db
def test_admin_lists_gc_runs_read_only(alpha, admin_client):
    run = make_run(alpha, found=3)
    page = admin_client.get(reverse("admin:controller_gcrun_changelist"))
    assert page.status_code == 200 and b"Cluster sweep of available ENIs" in page.content
    assert admin_client.get(reverse("admin:controller_gcrun_add")).status_code == 403
    detail = admin_client.get(reverse("admin:controller_gcrun_change", args=[run.pk]))
    assert detail.status_code == 200
    response = admin_client.post(reverse("admin:controller_gcrun_delete", args=[run.pk]),
                                 {"post": "yes"})
    assert response.status_code == 403 and GCRun.objects.filter(pk=run.pk).exists()
