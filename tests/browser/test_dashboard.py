"""The dashboard in a real browser: live preview as you type, inline errors, edit
conflicts, a YAML import job with an error, and the node capacity bars."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from apps.core.testing.clients import make_user
from apps.policies.models import Policy
from tests.ui.conftest import SG_DB, SG_WEB

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SGPADMIN_SCREENSHOTS")  # a directory to save screenshots in, if set


def shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.fixture
def editor(world):
    return make_user("editor", world.alpha)


def test_create_policy_with_live_preview_and_inline_error(page, world, editor):
    log_in(page, editor)
    page.goto("/policies/")
    page.click("text=Add policy")
    page.select_option("select[name=cluster]", str(world.alpha.pk))
    page.fill("input[name=namespace]", "team-a")
    page.fill("input[name=name]", "web-access")
    preview = page.locator("#preview")
    page.fill("textarea[name=pod_labels]", "app=web")
    expect(preview.locator("#no-groups")).to_be_visible()  # no group yet: selects nothing
    page.fill("textarea[name=group_ids]", SG_DB)
    expect(preview.locator('[data-pod="team-a/web-1"]')).to_be_visible()
    expect(preview.locator('[data-pod="team-a/db-1"]')).to_have_count(0)
    expect(preview).to_contain_text("node-busy")
    shot(page, "policy-preview")
    page.fill("textarea[name=pod_labels]", "app=db")  # the preview follows the typing
    expect(preview.locator('[data-pod="team-a/db-1"]')).to_be_visible()
    expect(preview.locator('[data-pod="team-a/web-1"]')).to_have_count(0)
    page.fill("textarea[name=group_ids]", "sg-123")
    expect(preview).to_contain_text("is not a security group id")
    page.click("text=Save policy")
    expect(page.locator("#errors-group_ids")).to_contain_text("is not a security group id")
    assert not Policy.objects.filter(name="web-access").exists()
    page.fill("textarea[name=group_ids]", SG_DB)
    page.click("text=Save policy")
    expect(page.locator("h1")).to_have_text("web-access")
    expect(page.locator("#matches")).to_contain_text("team-a/db-1")
    assert Policy.objects.get(name="web-access").group_ids == [SG_DB]


def test_yaml_tab_carries_the_fields_over(page, world, editor):
    log_in(page, editor)
    page.goto("/policies/add/")
    page.fill("textarea[name=pod_labels]", "app=web")
    page.fill("textarea[name=group_ids]", SG_WEB)
    page.click("button[role=tab]:has-text('YAML')")
    expect(page.locator("textarea[name=spec_yaml]")).to_have_value(
        f"podSelector:\n  matchLabels:\n    app: web\nsecurityGroups:\n  groupIds:\n  - {SG_WEB}\n"
    )


def test_two_people_editing_one_policy_get_a_conflict(browser, live_server, world, editor):
    pages = []
    for _ in range(2):
        context = browser.new_context(base_url=live_server.url)
        pages.append(context.new_page())
        log_in(pages[-1], editor)
        pages[-1].goto(f"/policies/{world.web_policy.pk}/edit/")
    first, second = pages
    first.fill("input[name=description]", "first editor")
    first.click("text=Save policy")
    expect(first.locator("h1")).to_have_text("web")
    second.fill("input[name=description]", "second editor")
    second.click("text=Save policy")
    expect(second.locator("#conflict")).to_contain_text("changed by someone else")
    shot(second, "policy-conflict")
    world.web_policy.refresh_from_db()
    assert world.web_policy.description == "first editor"
    for p in pages:
        p.context.close()


def test_yaml_import_with_an_error_shows_the_document(page, world, editor, eager_jobs):
    log_in(page, editor)
    page.goto("/policies/import/")
    page.select_option("select[name=cluster]", str(world.alpha.pk))
    page.fill(
        "textarea[name=yaml_text]",
        (
            "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\n"
            "metadata: {name: ok, namespace: team-a}\n"
            f"spec: {{podSelector: {{}}, securityGroups: {{groupIds: [{SG_DB}]}}}}\n---\n"
            "apiVersion: vpcresources.k8s.aws/v1beta1\nkind: SecurityGroupPolicy\n"
            "metadata: {name: broken, namespace: team-a}\n"
            "spec: {podSelector: {}, securityGroups: {groupIds: [sg-nothex]}}\n"
        ),
    )
    page.click("button:has-text('Import')")
    expect(page.locator("#job-status")).to_have_attribute("data-status", "failed")
    expect(page.locator("#job-log")).to_contain_text("document 2")
    expect(page.locator("#job-status")).to_contain_text("nothing was imported")
    shot(page, "import-job")
    assert not Policy.objects.filter(name__in=["ok", "broken"]).exists()


def test_node_bars_show_in_use_and_cooling_in_proportion(page, world, editor):
    log_in(page, editor)
    page.goto("/inventory/nodes/")
    bar = page.locator('.capbar[data-capacity="5"]')
    expect(bar).to_be_visible()
    whole = bar.bounding_box()["width"]
    in_use = bar.locator(".inuse").bounding_box()["width"]
    cooling = bar.locator(".cooling").bounding_box()["width"]
    assert abs(in_use / whole - 0.4) < 0.03 and abs(cooling / whole - 0.4) < 0.03
    row = page.locator("tr.near-capacity")
    expect(row).to_contain_text("node-busy")
    assert (
        row.evaluate("r => getComputedStyle(r.querySelector('td')).backgroundColor")
        != "rgba(0, 0, 0, 0)"
    )
    shot(page, "nodes")


def test_job_page_refreshes_itself_until_the_job_ends(page, world, editor):
    from apps.core.jobs.models import Job, JobLogEntry

    job = Job.objects.create(
        kind="x",
        title="resync alpha",
        cluster="alpha",
        user=editor,
        status="running",
        progress_done=1,
        progress_total=4,
    )
    log_in(page, editor)
    page.goto(f"/jobs/{job.pk}/")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "25")
    JobLogEntry.objects.create(job=job, message="node-busy reconciled")
    Job.objects.filter(pk=job.pk).update(progress_done=4, status="succeeded", result={"nodes": 2})
    expect(page.locator("#job-status")).to_have_attribute("data-status", "succeeded")  # no reload
    expect(page.locator("#job-log")).to_contain_text("node-busy reconciled")
    expect(page.locator(".progress")).to_have_attribute("aria-valuenow", "100")


def test_list_filters_update_the_table_in_place(page, world, editor):
    from tests.factories import PolicyFactory, policy_spec

    PolicyFactory(cluster=world.alpha, name="payments", spec=policy_spec(SG_DB))
    log_in(page, editor)
    page.goto("/policies/")
    rows = page.locator("#object-table tbody tr")
    expect(rows).to_have_count(2)
    page.fill("aside input[name=name]", "payments")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("payments")
    assert "name=payments" in page.url  # the filtered view stays reloadable
