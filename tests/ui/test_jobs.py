"""The generic job framework: progress, log lines, results, failures, live refresh, scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.core.jobs.models import Job
from apps.core.jobs.runner import JobFailed, enqueue, execute, job_kind
from apps.core.testing.clients import make_user

from .conftest import browser_for


@job_kind
def count_to(context, n: int, fail_at: int | None = None):
    context.progress(0, total=n)
    for i in range(1, n + 1):
        if i == fail_at:
            raise JobFailed(f"stopped at {i}")
        context.log(f"step {i}")
        context.progress(i)
    return {"counted": n}


def crash(context):
    raise RuntimeError("boom")


@job_kind
def crash_kind(context):
    raise RuntimeError("boom")


def test_a_job_records_progress_log_and_result(
    world, viewer, django_capture_on_commit_callbacks, eager_jobs
):
    with django_capture_on_commit_callbacks(execute=True):
        job = enqueue(count_to, title="count", user=viewer.user, cluster="alpha", n=3)
    job.refresh_from_db()
    assert (job.status, job.result, job.percent) == ("succeeded", {"counted": 3}, 100)
    assert [e.message for e in job.log_entries.all()] == ["step 1", "step 2", "step 3"]
    assert job.started <= job.finished


def test_a_failing_job_says_why(world, viewer):
    job = enqueue(count_to, title="count", user=viewer.user, n=5, fail_at=3)
    job = execute(str(job.pk))
    assert (job.status, job.error, job.progress_done) == ("failed", "stopped at 3", 2)
    assert job.log_entries.last().level == "error"
    crashed = execute(str(enqueue(crash_kind, title="crash", user=viewer.user).pk))
    assert crashed.status == "failed" and crashed.error == "RuntimeError: boom"


def test_only_marked_functions_can_run(world, viewer):
    with pytest.raises(ValueError, match="not a job kind"):
        enqueue(crash, title="nope", user=viewer.user)


def test_job_page_polls_while_running_and_stops_when_done(world, viewer):
    job = Job.objects.create(
        kind="x",
        title="sweep",
        user=viewer.user,
        cluster="alpha",
        status="running",
        progress_done=2,
        progress_total=8,
    )
    url = reverse("core:job_detail", args=[job.pk])
    fragment = viewer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and 'aria-valuenow="25"' in fragment
    job.status = "succeeded"
    job.save()
    assert "every 1s" not in viewer.get(url, HTTP_HX_REQUEST="true").content.decode()


def test_jobs_are_visible_within_scope(world, viewer, beta_viewer):
    on_alpha = Job.objects.create(kind="x", title="on alpha", cluster="alpha")
    unscoped = Job.objects.create(kind="x", title="mine", user=viewer.user)
    assert beta_viewer.get(reverse("core:job_detail", args=[on_alpha.pk])).status_code == 404
    assert viewer.get(reverse("core:job_detail", args=[on_alpha.pk])).status_code == 200
    assert beta_viewer.get(reverse("core:job_detail", args=[unscoped.pk])).status_code == 404
    admin = browser_for(make_user("admin"))
    assert admin.get(reverse("core:job_detail", args=[unscoped.pk])).status_code == 200
