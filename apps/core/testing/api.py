"""The generic API test battery (after NetBox's APIViewTestCases), for pytest.

A concrete test class declares the endpoint and how to make its objects; it inherits
tests for listing, reading, scope (404 outside), roles (401 anonymous, 403 wrong role),
node tokens, ETag/If-Match, writes and their change records, and constant query counts::

    class TestPolicyAPI(ReadWriteAPITests):
        basename = "policy"
        def make_object(self, cluster): return PolicyFactory(cluster=cluster)
        def create_payload(self, cluster): return {...}
        def update_payload(self, obj): return {...}

Objects are made in the ``alpha`` cluster (in the scoped users' scope) or ``beta`` (not);
the fixtures ``alpha`` and ``beta`` come from the project's conftest.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.models import ChangeRecord

from .clients import client_with_role, make_user, token_client


class ReadOnlyAPITests:
    basename: str = ""
    # The role that may view; bound to the alpha cluster for the scoped tests.
    view_role = "viewer"

    # -- declarations ------------------------------------------------------------------
    def make_object(self, cluster):
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------
    def list_url(self) -> str:
        return reverse(f"{self.basename}-list")

    def detail_url(self, obj) -> str:
        return reverse(f"{self.basename}-detail", args=[obj.pk])

    def viewer(self, cluster):
        return client_with_role(self.view_role, cluster, write=False)

    @staticmethod
    def ids(response) -> set:
        return {row["id"] for row in response.json()["results"]}

    # -- tests -------------------------------------------------------------------------
    def test_anonymous_gets_401(self, alpha, anonymous_api):
        obj = self.make_object(alpha)
        assert anonymous_api.get(self.list_url()).status_code == 401
        assert anonymous_api.get(self.detail_url(obj)).status_code == 401

    def test_list_shows_only_objects_in_scope(self, alpha, beta):
        inside, outside = self.make_object(alpha), self.make_object(beta)
        response = self.viewer(alpha).get(self.list_url())
        assert response.status_code == 200, response.content
        ids = self.ids(response)
        assert inside.pk in ids
        assert outside.pk not in ids

    def test_user_without_role_sees_403(self, alpha):
        self.make_object(alpha)
        response = token_client(make_user(None)).get(self.list_url())
        assert response.status_code == 403

    def test_get_in_scope_returns_object_with_etag(self, alpha):
        obj = self.make_object(alpha)
        client = self.viewer(alpha)
        response = client.get(self.detail_url(obj))
        assert response.status_code == 200, response.content
        assert response.json()["id"] == obj.pk
        etag = response["ETag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = client.get(self.detail_url(obj), HTTP_IF_NONE_MATCH=etag)
        assert again.status_code == 304

    def test_get_outside_scope_is_404(self, alpha, beta):
        outside = self.make_object(beta)
        assert self.viewer(alpha).get(self.detail_url(outside)).status_code == 404

    def test_node_token_cannot_read(self, alpha):
        self.make_object(alpha)
        client = token_client(make_user("admin"), cluster=alpha, node_name="node-a")
        assert client.get(self.list_url()).status_code == 403

    def test_response_carries_request_id(self, alpha):
        self.make_object(alpha)
        request_id = str(uuid.uuid4())
        response = self.viewer(alpha).get(self.list_url(), HTTP_X_REQUEST_ID=request_id)
        assert response["X-Request-ID"] == request_id

    def test_list_runs_constant_number_of_queries(self, alpha):
        client = self.viewer(alpha)
        self.make_object(alpha)
        client.get(self.list_url())  # warm up: token last_used, content types
        with CaptureQueriesContext(connection) as one:
            assert client.get(self.list_url()).status_code == 200
        for _ in range(5):
            self.make_object(alpha)
        with CaptureQueriesContext(connection) as many:
            response = client.get(self.list_url())
        assert len(self.ids(response)) >= 6
        assert len(many) == len(one), [q["sql"] for q in many.captured_queries]


class ReadOnlyEndpointTests(ReadOnlyAPITests):
    """An endpoint that offers no writes at all."""

    def test_writes_are_not_allowed(self, alpha):
        obj = self.make_object(alpha)
        client = client_with_role("admin")
        assert client.post(self.list_url(), {}, format="json").status_code == 405
        assert client.patch(self.detail_url(obj), {}, format="json").status_code == 405
        assert client.delete(self.detail_url(obj)).status_code == 405


class ReadWriteAPITests(ReadOnlyAPITests):
    # The role that may write, bound to alpha (or to every cluster when write_global).
    write_role = "editor"
    write_global = False

    def create_payload(self, cluster) -> dict:
        raise NotImplementedError

    def update_payload(self, obj) -> dict:
        raise NotImplementedError

    def writer(self, cluster):
        return client_with_role(self.write_role, None if self.write_global else cluster)

    def change_records(self, obj, action):
        content_type = ContentType.objects.get_for_model(type(obj))
        return ChangeRecord.objects.filter(
            object_type=content_type, object_id=str(obj.pk), action=action
        )

    # -- create ------------------------------------------------------------------------
    def test_create_records_change_with_note(self, alpha):
        request_id = str(uuid.uuid4())
        payload = {**self.create_payload(alpha), "changelog_message": "why", "ticket_ref": "SEC-1"}
        client = self.writer(alpha)
        response = client.post(self.list_url(), payload, format="json", HTTP_X_REQUEST_ID=request_id)
        assert response.status_code == 201, response.content
        assert response["ETag"]
        body = response.json()
        assert "changelog_message" not in body and "ticket_ref" not in body
        record = ChangeRecord.objects.get(request_id=request_id, action="create")
        assert record.object_id == str(body["id"])
        assert (record.context, record.message, record.ticket_ref) == ("api", "why", "SEC-1")
        assert record.actor_name == client.user.username
        assert record.before is None and record.after

    def test_create_with_wrong_role_is_403(self, alpha):
        response = client_with_role("viewer", alpha).post(
            self.list_url(), self.create_payload(alpha), format="json"
        )
        assert response.status_code == 403

    def test_create_with_read_only_token_is_403(self, alpha):
        client = token_client(make_user("admin"), write=False)
        response = client.post(self.list_url(), self.create_payload(alpha), format="json")
        assert response.status_code == 403

    def test_create_refuses_unknown_fields(self, alpha):
        payload = {**self.create_payload(alpha), "no_such_field": 1}
        response = self.writer(alpha).post(self.list_url(), payload, format="json")
        assert response.status_code == 400
        assert response.json() == {"no_such_field": ["Unknown field."]}

    def test_create_replays_idempotent_request(self, alpha):
        client = self.writer(alpha)
        payload = self.create_payload(alpha)
        first = client.post(self.list_url(), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert first.status_code == 201, first.content
        again = client.post(self.list_url(), payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again["Idempotent-Replayed"] == "true"
        other = {**payload, "changelog_message": "a different body"}
        conflict = client.post(self.list_url(), other, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
        assert conflict.status_code == 422

    # -- update ------------------------------------------------------------------------
    def test_update_with_current_etag_records_change(self, alpha):
        obj = self.make_object(alpha)
        client = self.writer(alpha)
        etag = client.get(self.detail_url(obj))["ETag"]
        payload = {**self.update_payload(obj), "changelog_message": "tighten", "ticket_ref": "SEC-2"}
        response = client.patch(self.detail_url(obj), payload, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 200, response.content
        assert response["ETag"] != etag
        record = self.change_records(obj, "update").get()
        assert (record.message, record.ticket_ref, record.context) == ("tighten", "SEC-2", "api")
        assert record.before != record.after

    def test_update_with_stale_etag_is_412(self, alpha):
        obj = self.make_object(alpha)
        client = self.writer(alpha)
        etag = client.get(self.detail_url(obj))["ETag"]
        assert client.patch(self.detail_url(obj), self.update_payload(obj), format="json").status_code == 200
        stale = client.patch(self.detail_url(obj), self.update_payload(obj), format="json", HTTP_IF_MATCH=etag)
        assert stale.status_code == 412
        assert stale["ETag"] == client.get(self.detail_url(obj))["ETag"] != etag
        assert self.change_records(obj, "update").count() == 1

    def test_update_with_wrong_role_is_403(self, alpha):
        obj = self.make_object(alpha)
        client = client_with_role("viewer", alpha)
        assert client.patch(self.detail_url(obj), self.update_payload(obj), format="json").status_code == 403

    def test_update_outside_scope_is_404(self, alpha, beta):
        if self.write_global:
            pytest.skip("writers of this endpoint hold their role on every cluster")
        outside = self.make_object(beta)
        client = self.writer(alpha)
        response = client.patch(self.detail_url(outside), self.update_payload(outside), format="json")
        assert response.status_code == 404

    # -- delete ------------------------------------------------------------------------
    def test_delete_records_change_with_note_from_query(self, alpha):
        obj = self.make_object(alpha)
        client = self.writer(alpha)
        url = f"{self.detail_url(obj)}?changelog_message=retired&ticket_ref=SEC-3"
        response = client.delete(url)
        assert response.status_code == 204, response.content
        assert not type(obj).objects.filter(pk=obj.pk).exists()
        record = self.change_records(obj, "delete").get()
        assert (record.message, record.ticket_ref) == ("retired", "SEC-3")
        assert record.after is None and record.before

    def test_delete_with_stale_etag_is_412(self, alpha):
        obj = self.make_object(alpha)
        response = self.writer(alpha).delete(self.detail_url(obj), HTTP_IF_MATCH='"stale"')
        assert response.status_code == 412
        assert type(obj).objects.filter(pk=obj.pk).exists()

    def test_delete_with_wrong_role_is_403(self, alpha):
        obj = self.make_object(alpha)
        assert client_with_role("viewer", alpha).delete(self.detail_url(obj)).status_code == 403

    def test_node_token_cannot_write(self, alpha):
        client = token_client(make_user("admin"), cluster=alpha, node_name="node-a")
        assert client.post(self.list_url(), self.create_payload(alpha), format="json").status_code == 403
