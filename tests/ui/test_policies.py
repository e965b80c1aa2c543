"""Policy pages: permission-aware buttons, the structured and YAML editor, inline errors,
edit conflicts, the live preview, delete confirmation, export and import."""

from __future__ import annotations

import pytest
import yaml
from django.urls import reverse

from apps.audit.models import ChangeRecord
from apps.core.jobs.models import Job
from apps.policies.models import Origin, Policy

from .conftest import SG_DB, SG_WEB


def form_data(world, **overrides):
    data = {
        "cluster": world.alpha.pk,
        "namespace": "team-a",
        "name": "db-access",
        "description": "databases",
        "edit_mode": "fields",
        "pod_enabled": "on",
        "pod_labels": "app=db",
        "pod_expressions": "",
        "sa_labels": "",
        "sa_expressions": "",
        "group_ids": SG_DB,
        "changelog_message": "ticket work",
        "ticket_ref": "SEC-1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def edit_data(policy, **overrides):
    data = {
        "version": policy.version,
        "description": policy.description,
        "edit_mode": "fields",
        "pod_enabled": "on",
        "pod_labels": "app=web",
        "group_ids": SG_WEB,
    }
    data.update(overrides)
    return data


def test_viewer_sees_no_edit_or_delete_and_editor_does(world, viewer, editor):
    url = reverse("policies:policy_detail", args=[world.web_policy.pk])
    edit = reverse("policies:policy_edit", args=[world.web_policy.pk])
    delete = reverse("policies:policy_delete", args=[world.web_policy.pk])
    viewer_page = viewer.get(url).content.decode()
    editor_page = editor.get(url).content.decode()
    assert edit not in viewer_page and delete not in viewer_page
    assert edit in editor_page and delete in editor_page
    listing = reverse("policies:policy_list")
    assert reverse("policies:policy_add") not in viewer.get(listing).content.decode()
    assert reverse("policies:policy_add") in editor.get(listing).content.decode()


@pytest.mark.parametrize("name", ["policy_add", "policy_import"])
def test_viewer_may_not_open_add_pages(name, viewer):
    assert viewer.get(reverse(f"policies:{name}")).status_code == 403


def test_viewer_may_not_edit_or_delete(world, viewer):
    pk = world.web_policy.pk
    assert viewer.get(reverse("policies:policy_edit", args=[pk])).status_code == 404
    assert viewer.post(reverse("policies:policy_delete", args=[pk])).status_code == 404
    assert Policy.objects.filter(pk=pk).exists()


def test_editor_creates_a_policy_from_structured_fields(world, editor):
    response = editor.post(
        reverse("policies:policy_add"),
        form_data(world, pod_expressions="tier In (backend, cache)\nlegacy DoesNotExist"),
    )
    policy = Policy.objects.get(name="db-access")
    assert response.status_code == 302
    assert response["Location"] == reverse("policies:policy_detail", args=[policy.pk])
    assert policy.origin == Origin.UI
    assert policy.spec == {
        "podSelector": {
            "matchLabels": {"app": "db"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["backend", "cache"]},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        },
        "securityGroups": {"groupIds": [SG_DB]},
    }
    record = ChangeRecord.objects.get(
        object_type__model="policy", object_id=str(policy.pk), action="create"
    )
    assert (record.actor_name, record.context) == (editor.user.username, "ui")
    assert (record.message, record.ticket_ref) == ("ticket work", "SEC-1")


def test_editor_creates_a_policy_from_yaml(world, editor):
    spec = {
        "serviceAccountSelector": {"matchLabels": {"role": "db"}},
        "securityGroups": {"groupIds": [SG_DB, SG_WEB]},
    }
    editor.post(
        reverse("policies:policy_add"),
        form_data(world, edit_mode="yaml", spec_yaml=yaml.safe_dump(spec), pod_labels="ignored"),
    )
    assert Policy.objects.get(name="db-access").spec == spec


def test_field_errors_are_shown_next_to_their_field(world, editor):
    response = editor.post(
        reverse("policies:policy_add"),
        form_data(world, group_ids="sg-123", pod_labels="app=db\nnot a label"),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="errors-pod_labels"' in body and "write each label as key=value" in body
    assert not Policy.objects.filter(name="db-access").exists()
    response = editor.post(reverse("policies:policy_add"), form_data(world, group_ids="sg-123"))
    errors = response.context["form"].errors
    assert "is not a security group id" in errors["group_ids"][0]
    assert 'id="errors-group_ids"' in response.content.decode()


def test_yaml_errors_name_the_field_path(world, editor):
    response = editor.post(
        reverse("policies:policy_add"),
        form_data(
            world, edit_mode="yaml", spec_yaml="podSelector: {}\nsecurityGroups: {groupIds: []}\n"
        ),
    )
    assert response.context["form"].errors["spec_yaml"] == [
        "spec.securityGroups.groupIds: list at least one security group id"
    ]


def test_duplicate_name_is_refused(world, editor):
    response = editor.post(reverse("policies:policy_add"), form_data(world, name="web"))
    assert "already exists" in response.context["form"].errors["name"][0]


def test_editor_cannot_create_in_a_cluster_outside_scope(world, editor):
    response = editor.post(reverse("policies:policy_add"), form_data(world, cluster=world.beta.pk))
    assert "cluster" in response.context["form"].errors
    assert not Policy.objects.filter(name="db-access").exists()


def test_namespace_scoped_editor_cannot_save_elsewhere(world):
    from apps.core.testing.clients import make_user

    from .conftest import browser_for

    client = browser_for(make_user("editor", world.alpha, "team-a"))
    response = client.post(reverse("policies:policy_add"), form_data(world, namespace="team-b"))
    assert response.status_code == 403
    assert "may not save" in response.content.decode()
    assert not Policy.objects.filter(name="db-access").exists()


def test_edit_saves_and_bumps_the_version(world, editor):
    policy = world.web_policy
    response = editor.post(
        reverse("policies:policy_edit", args=[policy.pk]),
        edit_data(policy, group_ids=f"{SG_WEB}\n{SG_DB}"),
    )
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.group_ids == [SG_WEB, SG_DB] and policy.version == 2


def test_edit_form_shows_the_saved_spec_in_fields(world, editor):
    body = editor.get(reverse("policies:policy_edit", args=[world.web_policy.pk])).content.decode()
    assert "app=web" in body and SG_WEB in body
    assert 'name="version" value="1"' in body


def test_concurrent_edit_ends_in_a_conflict_not_a_lost_update(world, editor):
    policy = world.web_policy
    url = reverse("policies:policy_edit", args=[policy.pk])
    first = edit_data(policy, group_ids=SG_DB, description="first")
    second = edit_data(policy, group_ids=f"{SG_WEB}\n{SG_DB}", description="second")
    assert editor.post(url, first).status_code == 302
    response = editor.post(url, second)
    assert response.status_code == 409
    body = response.content.decode()
    assert "Edit conflict" in body and "changed by someone else" in body
    policy.refresh_from_db()
    assert policy.description == "first" and policy.group_ids == [SG_DB]


def test_preview_lists_the_pods_and_nodes_a_draft_selects(world, editor):
    response = editor.post(
        reverse("policies:policy_preview"),
        form_data(world, pod_labels="app=web"),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert 'data-pod="team-a/web-1"' in body and 'data-pod="team-a/web-2"' in body
    assert 'data-pod="team-a/db-1"' not in body
    assert "node-busy" in body
    assert not Policy.objects.filter(name="db-access").exists()


def test_preview_shows_what_changes_against_the_saved_version(world, editor):
    policy = world.web_policy
    response = editor.post(
        reverse("policies:policy_edit_preview", args=[policy.pk]),
        edit_data(policy, pod_labels="app=db"),
        HTTP_HX_REQUEST="true",
    )
    diff = response.context["diff"]
    assert [p["name"] for p in diff["added"]] == ["db-1"]
    assert sorted(p["name"] for p in diff["removed"]) == ["web-1", "web-2"]
    assert "no longer selected" in response.content.decode()


def test_preview_reports_unreadable_input(world, editor):
    response = editor.post(reverse("policies:policy_preview"), form_data(world, pod_labels="oops"))
    assert "write each label as key=value" in response.content.decode()


def test_preview_is_for_editors_only(world, viewer):
    assert viewer.post(reverse("policies:policy_preview"), form_data(world)).status_code == 403


def test_switching_to_yaml_carries_the_fields_over(world, editor):
    response = editor.post(
        reverse("policies:policy_spec_editor"),
        form_data(world, switch_to="yaml"),
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert 'name="spec_yaml"' in body and "app: db" in body and SG_DB in body
    back = editor.post(
        reverse("policies:policy_spec_editor"),
        {
            "edit_mode": "yaml",
            "switch_to": "fields",
            "spec_yaml": "podSelector:\n  matchLabels: {tier: x}\n"
            "securityGroups: {groupIds: [sg-0123456789abcdef0]}\n",
        },
    )
    assert "tier=x" in back.content.decode()


def test_delete_confirmation_lists_affected_pods_then_deletes(world, editor):
    url = reverse("policies:policy_delete", args=[world.web_policy.pk])
    body = editor.get(url).content.decode()
    assert "team-a/web-1" in body and "team-a/db-1" not in body
    response = editor.post(url, {"changelog_message": "retired"})
    assert response.status_code == 302
    assert not Policy.objects.filter(pk=world.web_policy.pk).exists()
    record = ChangeRecord.objects.get(
        object_type__model="policy", object_id=str(world.web_policy.pk), action="delete"
    )
    assert record.message == "retired"


def test_export_gives_the_filtered_policies_as_yaml(world, viewer):
    response = viewer.get(reverse("policies:policy_list") + "?namespace=team-a&export=yaml")
    assert response["Content-Type"] == "application/yaml"
    documents = list(yaml.safe_load_all(response.content))
    assert [d["metadata"]["name"] for d in documents] == ["web"]  # beta's policy is out of scope


def test_list_filters_by_group_and_sorts(world, viewer):
    from tests.factories import PolicyFactory, policy_spec

    PolicyFactory(cluster=world.alpha, name="aaa", spec=policy_spec(SG_DB))
    body = viewer.get(reverse("policies:policy_list") + f"?group_id={SG_DB}").content.decode()
    assert ">aaa<" in body and ">web<" not in body
    ordered = viewer.get(reverse("policies:policy_list") + "?sort=-name").content.decode()
    assert ordered.index(">web<") < ordered.index(">aaa<")


MANIFEST = """\
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata: {name: %s, namespace: team-a}
spec:
  podSelector: {matchLabels: {app: %s}}
  securityGroups: {groupIds: [%s]}
"""


def test_import_runs_as_a_job_and_reports_progress(
    world, editor, django_capture_on_commit_callbacks, eager_jobs
):
    text = "---\n".join(MANIFEST % (f"p{i}", f"a{i}", SG_DB) for i in range(30))
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            reverse("policies:policy_import"), {"cluster": world.alpha.pk, "yaml_text": text}
        )
    job = Job.objects.get()
    assert response["Location"] == reverse("core:job_detail", args=[job.pk])
    assert job.status == "succeeded", job.error
    assert job.result == {"created": 30, "updated": 0, "unchanged": 0}
    assert (job.progress_done, job.progress_total) == (30, 30)
    assert Policy.objects.filter(cluster=world.alpha, origin=Origin.IMPORT).count() == 30
    page = editor.get(response["Location"]).content.decode()
    assert "created team-a/p0" in page and "every 1s" not in page


def test_import_with_a_bad_document_imports_nothing_and_says_why(
    world, editor, django_capture_on_commit_callbacks, eager_jobs
):
    text = MANIFEST % ("good", "a", SG_DB) + "---\n" + MANIFEST % ("bad", "b", "sg-nothex")
    with django_capture_on_commit_callbacks(execute=True):
        response = editor.post(
            reverse("policies:policy_import"), {"cluster": world.alpha.pk, "yaml_text": text}
        )
    job = Job.objects.get()
    assert job.status == "failed" and "nothing was imported" in job.error
    page = editor.get(response["Location"]).content.decode()
    assert "document 2" in page and "sg-nothex" in page
    assert not Policy.objects.filter(name__in=["good", "bad"]).exists()


def test_import_needs_some_yaml(world, editor):
    response = editor.post(reverse("policies:policy_import"), {"cluster": world.alpha.pk})
    assert "Upload a file or paste the YAML." in response.content.decode()
    assert not Job.objects.exists()


def test_htmx_delete_redirects_the_browser(world, editor):
    response = editor.post(
        reverse("policies:policy_delete", args=[world.web_policy.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("policies:policy_list")


def test_bulk_delete_confirms_then_deletes_only_what_the_user_may(world, editor, viewer):
    from tests.factories import PolicyFactory

    other = PolicyFactory(cluster=world.alpha, name="other")
    assert 'name="pk"' not in viewer.get(reverse("policies:policy_list")).content.decode()
    assert 'name="pk"' in editor.get(reverse("policies:policy_list")).content.decode()
    url = reverse("policies:policy_bulk_delete")
    ids = [world.web_policy.pk, other.pk, world.beta_policy.pk]  # beta is out of scope
    confirm = editor.post(url, {"pk": ids})
    body = confirm.content.decode()
    assert confirm.status_code == 200 and "Delete 2 objects?" in body
    assert "team-a/web-1" in body and "beta-web" not in body
    assert Policy.objects.filter(pk__in=ids).count() == 3
    done = editor.post(url, {"pk": ids, "_confirm": "1", "changelog_message": "cleanup"})
    assert done.status_code == 302
    assert list(Policy.objects.filter(pk__in=ids)) == [world.beta_policy]
    records = ChangeRecord.objects.filter(object_type__model="policy", action="delete")
    assert {r.message for r in records} == {"cleanup"} and len({r.request_id for r in records}) == 1


def test_bulk_delete_of_all_matching_the_filter(world, editor):
    from tests.factories import PolicyFactory

    PolicyFactory(
        cluster=world.alpha,
        name="keep",
        spec={"podSelector": {}, "securityGroups": {"groupIds": [SG_DB]}},
    )
    confirm = editor.post(
        reverse("policies:policy_bulk_delete"), {"_all": "1", "_query": f"group_id={SG_WEB}"}
    )
    assert [o.name for o in confirm.context["objects"]] == ["web"]


def test_viewer_may_not_bulk_delete(world, viewer):
    response = viewer.post(
        reverse("policies:policy_bulk_delete"), {"pk": [world.web_policy.pk], "_confirm": "1"}
    )
    assert response.status_code == 403
    assert Policy.objects.filter(pk=world.web_policy.pk).exists()


def test_export_link_follows_the_filters(world, viewer):
    fragment = viewer.get(
        reverse("policies:policy_list") + "?namespace=team-a", HTTP_HX_REQUEST="true"
    )
    assert "/policies/?namespace=team-a&amp;export=yaml" in fragment.content.decode()


def test_buttons_follow_the_users_scope_per_object(world):
    from apps.accounts.models import RoleBinding
    from apps.core.testing.clients import make_user
    from tests.factories import PolicyFactory

    from .conftest import browser_for

    user = make_user("editor", world.alpha, "team-a")  # edits team-a only...
    RoleBinding.objects.create(
        user=user, role="viewer", cluster=world.alpha
    )  # ...sees all of alpha
    client = browser_for(user)
    elsewhere = PolicyFactory(cluster=world.alpha, namespace="team-b", name="b")
    mine = client.get(
        reverse("policies:policy_detail", args=[world.web_policy.pk])
    ).content.decode()
    theirs = client.get(reverse("policies:policy_detail", args=[elsewhere.pk])).content.decode()
    assert reverse("policies:policy_edit", args=[world.web_policy.pk]) in mine
    assert reverse("policies:policy_edit", args=[elsewhere.pk]) not in theirs
    assert reverse("policies:policy_delete", args=[elsewhere.pk]) not in theirs
    assert client.get(reverse("policies:policy_edit", args=[elsewhere.pk])).status_code == 404


def test_preview_never_shows_pods_of_namespaces_outside_the_users_view(world):
    from apps.core.testing.clients import make_user
    from tests.factories import PodFactory

    from .conftest import browser_for

    PodFactory(cluster=world.alpha, namespace="team-b", name="secret-pod", labels={"app": "web"})
    client = browser_for(make_user("editor", world.alpha, "team-a"))
    response = client.post(
        reverse("policies:policy_preview"), form_data(world, namespace="team-b", pod_labels="")
    )
    body = response.content.decode()
    assert "secret-pod" not in body and 'id="out-of-scope"' in body


def test_detail_says_whether_the_cluster_has_the_saved_version(world, viewer):
    url = reverse("policies:policy_detail", args=[world.web_policy.pk])
    assert "not yet written to the cluster" in viewer.get(url).content.decode()
    Policy.objects.filter(pk=world.web_policy.pk).update(cluster_synced_version=1)
    assert ">in the cluster<" in viewer.get(url).content.decode()
