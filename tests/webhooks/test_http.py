"""The HTTP shell: bad input gets a clear 400 (never a 500), only POST JSON is accepted,
CSRF does not apply, clusters are chosen by URL or default, and nothing is written."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from .factories import POD_LABELS, make_cluster, make_policy, pod, post_review, review

pytestmark = pytest.mark.django_db

PATHS = ["/mutate-v1-pod", "/validate-v1-pod"]


@pytest.fixture
def cluster():
    cluster = make_cluster("prod")
    make_policy(cluster, pod_selector={"matchLabels": {"role": "db"}}, groups=["sg-prod"])
    return cluster


def failure(response, code):
    assert response.status_code == code, response.content
    body = json.loads(response.content)
    assert body["kind"] == "Status" and body["status"] == "Failure" and body["code"] == code
    return body["message"]


def good_review():
    return review(pod(labels=POD_LABELS))


def without(key):
    body = good_review()
    del body["request"][key]
    return body


BAD_BODIES = {
    "not-json": ("{not json", "not JSON"),
    "not-utf8": (b"\xff\xfe", "not JSON"),
    "json-list": ("[]", "JSON object"),
    "wrong-kind": ({**good_review(), "kind": "TokenReview"}, "kind AdmissionReview"),
    "wrong-version": (
        {**good_review(), "apiVersion": "admission.k8s.io/v1beta1"},
        "admission.k8s.io/v1",
    ),
    "no-request": ({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1"}, "no request"),
    "no-uid": (without("uid"), "request.uid"),
    "no-kind": (without("kind"), "request.kind"),
    "no-object": (without("object"), "request.object"),
    "bad-operation": (
        {**good_review(), "request": {**good_review()["request"], "operation": "PATCH"}},
        "operation",
    ),
}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_a_bad_review_is_a_400_that_says_why(client, cluster, path, case):
    body, words = BAD_BODIES[case]
    assert words in failure(post_review(client, body, path=path), 400)


@pytest.mark.parametrize("path", PATHS)
def test_an_object_that_is_not_a_pod_is_a_400(client, cluster, path):
    body = review({"kind": "Node", "apiVersion": "v1", "metadata": {"name": "n"}})
    assert "not a v1/Pod" in failure(post_review(client, body, path=path), 400)
    body = good_review()
    body["request"]["kind"] = {"group": "apps", "version": "v1", "kind": "Deployment"}
    assert "apps/v1/Deployment" in failure(post_review(client, body, path=path), 400)


def test_a_malformed_pod_is_a_400_naming_the_field(client, cluster):
    obj = pod()
    obj["metadata"]["annotations"] = ["not", "a", "map"]
    for path in PATHS:
        message = failure(post_review(client, review(obj), path=path), 400)
        assert message == "metadata.annotations must be an object"


@pytest.mark.parametrize("path", PATHS)
def test_a_body_over_the_limit_is_a_400(client, cluster, settings, path):
    settings.SGPADMIN_MAX_BODY_BYTES = 2000
    body = good_review()
    body["request"]["object"]["metadata"]["annotations"] = {"big": "x" * 3000}
    assert "limit" in failure(post_review(client, body, path=path), 400)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_only_post_is_allowed(client, cluster, path, method):
    response = getattr(client, method)(path)
    failure(response, 405)
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_only_json_is_accepted(client, cluster, path, content_type):
    response = client.post(path, data=json.dumps(good_review()), content_type=content_type)
    assert content_type in failure(response, 415)


@pytest.mark.parametrize("path", PATHS)
def test_json_with_a_charset_is_accepted(client, cluster, path, answer):
    response = client.post(
        path, data=json.dumps(good_review()), content_type="application/json; charset=utf-8"
    )
    assert answer(response).allowed


@pytest.mark.parametrize("path", PATHS)
def test_csrf_does_not_apply(cluster, path, answer):
    strict = Client(enforce_csrf_checks=True)
    assert answer(post_review(strict, good_review(), path=path)).allowed


def test_named_clusters_each_answer_from_their_own_policies(client, cluster, answer):
    staging = make_cluster("staging")
    make_policy(staging, pod_selector={"matchLabels": {"role": "web"}}, groups=["sg-staging"])
    web = review(pod(labels={"role": "web"}))
    db = review(pod(labels={"role": "db"}))
    assert answer(post_review(client, db, path="/clusters/prod/mutate-v1-pod")).patch
    assert answer(post_review(client, web, path="/clusters/prod/mutate-v1-pod")).patch is None
    assert answer(post_review(client, web, path="/clusters/staging/mutate-v1-pod")).patch
    assert answer(post_review(client, db, path="/clusters/staging/mutate-v1-pod")).patch is None
    assert answer(post_review(client, db, path="/clusters/staging/validate-v1-pod")).allowed


def test_the_default_cluster_is_the_only_one(client, cluster, answer):
    assert answer(post_review(client, review(pod(labels={"role": "db"})))).patch


def test_with_several_clusters_the_default_comes_from_the_setting(
    client, cluster, settings, answer
):
    make_cluster("staging")
    message = failure(post_review(client, good_review()), 404)
    assert "SGPADMIN_WEBHOOK_DEFAULT_CLUSTER" in message
    settings.SGPADMIN_WEBHOOK_DEFAULT_CLUSTER = "prod"
    assert answer(post_review(client, review(pod(labels={"role": "db"})))).patch


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_cluster_is_a_404(client, cluster, path):
    message = failure(post_review(client, good_review(), path="/clusters/nope" + path), 404)
    assert '"nope"' in message


def test_reviews_never_write_to_the_database(client, cluster, settings):
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    obj = pod(labels=POD_LABELS, annotations={"vpc.amazonaws.com/pod-eni": "[]"})
    bodies = [
        (review(obj), "/mutate-v1-pod"),
        (review(obj), "/validate-v1-pod"),
        (review(obj, "UPDATE", old=pod()), "/validate-v1-pod"),
        (review(pod(service_account="missing")), "/clusters/prod/mutate-v1-pod"),
        ("{bad", "/mutate-v1-pod"),
        (good_review(), "/clusters/nope/mutate-v1-pod"),
    ]
    with connection.execute_wrapper(record):
        for body, path in bodies:
            assert post_review(client, body, path=path).status_code in (200, 400, 404)
    assert statements, "the cold cache loads from the database"
    writes = [
        s
        for s in statements
        if s.lstrip().split()[0].upper() not in ("SELECT", "SAVEPOINT", "RELEASE")
    ]
    assert writes == []
