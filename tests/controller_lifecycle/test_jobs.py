"""Resync and leak sweep as background jobs started from the dashboard."""

import pytest
from django.urls import reverse

from apps.accounts.models import RoleBinding
from apps.controller import jobs
from apps.core.jobs.models import Job, JobLogEntry
from apps.core.jobs.runner import execute
from apps.inventory.models import BranchENI

from .conftest import attached
from .test_gc import all_eni_ids, stray_eni


def run(job_function, world, user=None) -> Job:
    from apps.core.jobs.runner import enqueue

    job = enqueue(
        job_function, title="t", user=user, cluster=world.cluster.name, cluster_id=world.cluster.pk
    )
    return execute(str(job.pk))


def lines(job: Job) -> list[str]:
    return list(
        JobLogEntry.objects.filter(job=job).order_by("pk").values_list("message", flat=True)
    )


def test_resync_job_reports_each_node_and_rebuilds_a_wiped_row(world):
    entry = attached(world, "p1")
    BranchENI.objects.filter(eni_id=entry["eniId"]).delete()
    job = run(jobs.resync, world)
    assert job.status == Job.Status.SUCCEEDED, lines(job)
    assert job.progress_total == 1 and job.progress_done == 1
    assert any(line.startswith("node-0: ") and "adopt 1" in line for line in lines(job))
    assert BranchENI.objects.filter(eni_id=entry["eniId"]).exists()


def test_sweep_job_deletes_on_the_second_sighting_and_says_so(world):
    stray = stray_eni(world)
    first = run(jobs.leak_sweep, world)
    assert first.status == Job.Status.SUCCEEDED
    assert any("seen available for the first time" in line for line in lines(first))
    second = run(jobs.leak_sweep, world)
    assert f"deleted {stray}" in lines(second)
    assert second.result == {"found": 1, "deleted": 1}
    assert stray not in all_eni_ids(world)


def test_only_cluster_admins_may_start_them(world, client, django_user_model):
    editor = django_user_model.objects.create_user("ed", password="pw-editor-1")
    RoleBinding.objects.create(user=editor, role="editor")
    client.force_login(editor)
    url = reverse("controller:cluster_resync", args=[world.cluster.pk])
    assert client.post(url).status_code == 403
    page = client.get(reverse("inventory:cluster_usage", args=[world.cluster.pk]))
    assert b"Leak sweep" not in page.content

    admin = django_user_model.objects.create_user("ad", password="pw-admin-12")
    RoleBinding.objects.create(user=admin, role="admin", cluster=world.cluster)
    client.force_login(admin)
    page = client.get(reverse("inventory:cluster_usage", args=[world.cluster.pk]))
    assert b"Leak sweep" in page.content
    response = client.post(reverse("controller:cluster_sweep", args=[world.cluster.pk]))
    job = Job.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/{job.pk}/")
    assert job.kind.endswith("leak_sweep") and job.user == admin


@pytest.mark.parametrize("operation", ["cluster_resync", "cluster_sweep"])
def test_anonymous_users_are_sent_to_log_in(world, client, operation):
    response = client.post(reverse(f"controller:{operation}", args=[world.cluster.pk]))
    assert response.status_code == 302 and "/login/" in response.url


def test_resync_command_prints_what_it_did(world):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    entry = attached(world, "p1")
    BranchENI.objects.filter(eni_id=entry["eniId"]).delete()
    out = StringIO()
    call_command("resync", cluster=world.cluster.name, stdout=out)
    assert "node-0: " in out.getvalue() and "adopt 1" in out.getvalue()
    with pytest.raises(CommandError, match="no cluster named 'nope'"):
        call_command("resync", cluster="nope")
