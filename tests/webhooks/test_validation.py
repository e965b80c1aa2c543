"""The annotation validator's pure decision, over every combination of annotations."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apps.webhooks.admission import AdmissionRequest
from apps.webhooks.validation import DEFAULT_CONTROLLER_IDENTITIES, validate_pod

from .factories import pod

POD_ENI = "vpc.amazonaws.com/pod-eni"
FARGATE_SG = "fargate.amazonaws.com/pod-sg"
values = st.sampled_from([None, "", "a", "b"])
users = st.sampled_from(
    ["alice", "system:serviceaccount:kube-system:aws-node", *DEFAULT_CONTROLLER_IDENTITIES]
)


def annotated(eni, sg, other):
    chosen = {POD_ENI: eni, FARGATE_SG: sg, "team": other}
    return pod(annotations={k: v for k, v in chosen.items() if v is not None})


@given(values, values, values, values, values, values, users)
def test_update_is_allowed_exactly_when_upstream_allows_it(eni0, eni1, sg0, sg1, o0, o1, user):
    request = AdmissionRequest(
        uid="u",
        operation="UPDATE",
        namespace="default",
        username=user,
        object=annotated(eni1, sg1, o1),
        old_object=annotated(eni0, sg0, o0),
    )
    decision = validate_pod(request)
    fargate_changed = (sg0 or "") != (sg1 or "")
    eni_changed = (eni0 or "") != (eni1 or "")
    expected = not fargate_changed and (not eni_changed or user in DEFAULT_CONTROLLER_IDENTITIES)
    assert decision.allowed is expected
    assert decision.code == (200 if expected else 403)


@given(values, values, users)
def test_create_is_denied_exactly_when_the_pod_eni_annotation_is_present(eni, sg, user):
    request = AdmissionRequest(
        uid="u", operation="CREATE", namespace="default", username=user,
        object=annotated(eni, sg, None), old_object=None,
    )  # fmt: skip
    assert validate_pod(request).allowed is (eni is None)
