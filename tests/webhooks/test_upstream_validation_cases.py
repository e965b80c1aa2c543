"""Reference §6.2, annotation validator: every upstream case, through
``POST /validate-v1-pod`` with AdmissionReviews as kube-apiserver sends them."""

from __future__ import annotations

import pytest

from apps.webhooks.validation import SGPADMIN_CONTROLLER_IDENTITY, UPSTREAM_CONTROLLER_IDENTITIES

from .factories import make_cluster, pod, post_review, review

pytestmark = pytest.mark.django_db

POD_ENI = "vpc.amazonaws.com/pod-eni"
PRIVATE_IPV4 = "vpc.amazonaws.com/PrivateIPv4Address"
FARGATE_SG = "fargate.amazonaws.com/pod-sg"
ENI_VALUE = '[{"eniId":"eni-0a1b2c3d4e5f60718","vlanId":1}]'
OTHER_ENI_VALUE = '[{"eniId":"eni-0f0f0f0f0f0f0f0f0","vlanId":2}]'
STRANGER = "some unauthorized user"


@pytest.fixture(autouse=True)
def one_cluster():
    return make_cluster()


def validate(client, answer, obj, operation="CREATE", **kwargs):
    body = review(obj, operation, **kwargs)
    result = answer(post_review(client, body, path="/validate-v1-pod"))
    assert result.uid == body["request"]["uid"]
    assert result.patch is None
    return result


def update(client, answer, before: dict | None, after: dict | None, username=STRANGER):
    return validate(
        client,
        answer,
        pod(annotations=after),
        "UPDATE",
        old=pod(annotations=before),
        username=username,
    )


def test_create_without_the_annotation_is_allowed(client, answer):
    assert validate(client, answer, pod(annotations={"a": "b"})).allowed


def test_create_with_the_annotation_is_denied(client, answer):
    result = validate(client, answer, pod(annotations={POD_ENI: ENI_VALUE}))
    assert not result.allowed
    assert result.status["code"] == 403
    assert result.message == f"pod cannot be created with {POD_ENI} annotation"


@pytest.mark.parametrize(
    "username", [*UPSTREAM_CONTROLLER_IDENTITIES, SGPADMIN_CONTROLLER_IDENTITY]
)
def test_update_by_a_controller_identity_is_allowed(client, answer, username):
    assert update(client, answer, None, {POD_ENI: ENI_VALUE}, username=username).allowed
    assert update(client, answer, {POD_ENI: ENI_VALUE}, {}, username=username).allowed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, {POD_ENI: ENI_VALUE}),
        ({POD_ENI: ENI_VALUE}, {POD_ENI: OTHER_ENI_VALUE}),
        ({POD_ENI: ENI_VALUE}, {}),
    ],
    ids=["add", "change", "delete"],
)
def test_update_of_the_annotation_by_another_user_is_denied(client, answer, before, after):
    result = update(client, answer, before, after)
    assert not result.allowed
    assert result.message == "annotation is not set by vpc-resource-controller"


def test_update_that_keeps_the_annotation_is_allowed_for_anyone(client, answer):
    before = {POD_ENI: ENI_VALUE}
    assert update(client, answer, before, {**before, "team": "payments"}).allowed


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, {FARGATE_SG: "sg-1"}),
        ({FARGATE_SG: "sg-1"}, {FARGATE_SG: "sg-2"}),
        ({FARGATE_SG: "sg-1"}, {}),
    ],
    ids=["add", "change", "delete"],
)
@pytest.mark.parametrize("username", [STRANGER, SGPADMIN_CONTROLLER_IDENTITY])
def test_update_of_fargate_pod_sg_is_denied_for_everyone(client, answer, before, after, username):
    result = update(client, answer, before, after, username=username)
    assert not result.allowed
    assert result.message == "annotation is not set by mutating webhook"


def test_delete_is_allowed(client, answer):
    body = review(None, "DELETE", old=pod(annotations={POD_ENI: ENI_VALUE}), username=STRANGER)
    result = answer(post_review(client, body, path="/validate-v1-pod"))
    assert result.allowed


def test_controller_identities_come_from_the_setting(client, answer, settings):
    settings.SGPADMIN_CONTROLLER_IDENTITIES = ["system:serviceaccount:ops:custom-controller"]
    custom = "system:serviceaccount:ops:custom-controller"
    assert update(client, answer, None, {POD_ENI: ENI_VALUE}, username=custom).allowed
    result = update(
        client, answer, None, {POD_ENI: ENI_VALUE}, username=SGPADMIN_CONTROLLER_IDENTITY
    )
    assert not result.allowed


def test_windows_ipam_disabled_leaves_the_private_ipv4_annotation_alone(client, answer, settings):
    settings.SGPADMIN_WEBHOOK_WINDOWS_IPAM = False
    assert validate(client, answer, pod(annotations={PRIVATE_IPV4: "10.0.0.5"})).allowed
    assert update(client, answer, None, {PRIVATE_IPV4: "10.0.0.5"}).allowed


def test_windows_ipam_enabled_protects_the_private_ipv4_annotation(client, answer, settings):
    settings.SGPADMIN_WEBHOOK_WINDOWS_IPAM = True
    result = validate(client, answer, pod(annotations={PRIVATE_IPV4: "10.0.0.5"}))
    assert result.message == f"pod cannot be created with {PRIVATE_IPV4} annotation"
    assert not update(client, answer, None, {PRIVATE_IPV4: "10.0.0.5"}).allowed
