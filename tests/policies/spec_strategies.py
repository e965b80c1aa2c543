"""Hypothesis strategies for labels, label selectors and SecurityGroupPolicy specs.

Keys and values come from small pools so that generated selectors and labels collide
often enough for matches and mismatches both to be common.
"""

from __future__ import annotations

from hypothesis import strategies as st

LABEL_KEYS = ["role", "environment", "app", "tier", "example.com/team", "k8s.io/part-of"]
LABEL_VALUES = ["db", "qa", "production", "dev", "web", "test_app", "a.b-c", ""]

label_keys = st.sampled_from(LABEL_KEYS)
label_values = st.sampled_from(LABEL_VALUES)
labels = st.dictionaries(label_keys, label_values, max_size=5)

hex_digits = "0123456789abcdef"
group_ids = st.one_of(
    st.text(hex_digits, min_size=8, max_size=8),
    st.text(hex_digits, min_size=17, max_size=17),
).map(lambda digits: f"sg-{digits}")
# A small pool makes duplicates across policies likely.
pooled_group_ids = st.sampled_from([f"sg-{n:08x}" for n in range(1, 9)])


def set_expressions():
    return st.builds(
        lambda key, operator, values: {"key": key, "operator": operator, "values": values},
        label_keys,
        st.sampled_from(["In", "NotIn"]),
        st.lists(label_values, min_size=1, max_size=3, unique=True),
    )


def existence_expressions():
    return st.builds(
        lambda key, operator: {"key": key, "operator": operator},
        label_keys,
        st.sampled_from(["Exists", "DoesNotExist"]),
    )


expressions = st.one_of(set_expressions(), existence_expressions())


@st.composite
def selectors(draw) -> dict:
    """A valid label selector; sometimes ``{}``."""
    selector: dict = {}
    if draw(st.booleans()):
        selector["matchLabels"] = draw(st.dictionaries(label_keys, label_values, max_size=3))
    if draw(st.booleans()):
        selector["matchExpressions"] = draw(st.lists(expressions, max_size=3))
    return selector


@st.composite
def valid_specs(draw, groups=group_ids) -> dict:
    """A spec that validation accepts: at least one selector, 1-16 distinct group ids."""
    which = draw(st.sampled_from(["pod", "sa", "both"]))
    spec: dict = {}
    if which in ("pod", "both"):
        spec["podSelector"] = draw(selectors())
    if which in ("sa", "both"):
        spec["serviceAccountSelector"] = draw(selectors())
    spec["securityGroups"] = {
        "groupIds": draw(st.lists(groups, min_size=1, max_size=16, unique=True))
    }
    return spec


@st.composite
def matchable_specs(draw) -> dict:
    """A spec as matching may meet it: selectors may be absent, groups may be empty."""
    spec: dict = {}
    if draw(st.booleans()):
        spec["podSelector"] = draw(selectors())
    if draw(st.booleans()):
        spec["serviceAccountSelector"] = draw(selectors())
    spec["securityGroups"] = {"groupIds": draw(st.lists(pooled_group_ids, max_size=4))}
    return spec
