"""The database itself forbids impossible inventory states.

Run on SQLite (the embedded default) and on PostgreSQL (``DATABASE_URL=postgres://...``):
the same assertions hold on both, through Django constraints and, for overlapping
attachment intervals, migration 0002 (an exclusion constraint on PostgreSQL, triggers on
SQLite).
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.inventory.models import Attachment, BranchENI, BranchENIState
from tests.factories import (
    AttachmentFactory,
    BranchENIFactory,
    ClusterFactory,
    TrunkENIFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 1, 1, 14, 0, tzinfo=UTC)
ENI = "eni-0000000000000000a"


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def expect_refusal(write, constraint: str):
    with pytest.raises((IntegrityError, DatabaseError)) as caught, transaction.atomic():
        write()
    assert constraint in str(caught.value), caught.value
    return caught.value


# --- VLAN ids on a trunk ---------------------------------------------------------------------


def test_a_vlan_id_is_held_by_at_most_one_live_branch_per_trunk():
    trunk = TrunkENIFactory()
    BranchENIFactory(trunk=trunk, vlan_id=7)
    for state in [s for s in BranchENIState if s != BranchENIState.DELETED]:
        expect_refusal(
            lambda state=state: BranchENIFactory(trunk=trunk, vlan_id=7, state=state),
            "vlan",  # SQLite names the columns, PostgreSQL the constraint
        )
    assert BranchENI.objects.filter(trunk=trunk, vlan_id=7).count() == 1


def test_the_same_vlan_id_on_another_trunk_is_fine():
    first = TrunkENIFactory()
    second = TrunkENIFactory(node__cluster=first.cluster)
    BranchENIFactory(trunk=first, vlan_id=7)
    BranchENIFactory(trunk=second, vlan_id=7)
    assert BranchENI.objects.filter(vlan_id=7).count() == 2


def test_a_deleted_branch_frees_its_vlan_id():
    trunk = TrunkENIFactory()
    old = BranchENIFactory(trunk=trunk, vlan_id=7)
    old.state = BranchENIState.DELETED
    old.save()
    BranchENIFactory(trunk=trunk, vlan_id=7)
    # ...and history may hold any number of deleted branches on that VLAN id.
    BranchENIFactory(trunk=trunk, vlan_id=7, state=BranchENIState.DELETED)
    assert BranchENI.objects.filter(trunk=trunk, vlan_id=7).count() == 3


def test_reviving_a_deleted_branch_onto_a_taken_vlan_id_is_refused():
    trunk = TrunkENIFactory()
    gone = BranchENIFactory(trunk=trunk, vlan_id=7, state=BranchENIState.DELETED)
    BranchENIFactory(trunk=trunk, vlan_id=7)
    expect_refusal(
        lambda: BranchENI.objects.filter(pk=gone.pk).update(state=BranchENIState.COOLING), "vlan"
    )


@pytest.mark.parametrize("vlan_id", [0, 4095])
def test_vlan_id_outside_1_to_4094_is_refused(vlan_id):
    expect_refusal(lambda: BranchENIFactory(vlan_id=vlan_id), "branch_vlan_in_range")


def test_an_eni_id_is_live_on_at_most_one_branch():
    trunk = TrunkENIFactory()
    BranchENIFactory(trunk=trunk, vlan_id=1, eni_id="eni-0aaaaaaaaaaaaaaaa")
    expect_refusal(
        lambda: BranchENIFactory(trunk=trunk, vlan_id=2, eni_id="eni-0aaaaaaaaaaaaaaaa"), "eni_id"
    )
    # Branches still being created have no ENI id yet; several may exist at once.
    BranchENIFactory(trunk=trunk, vlan_id=3, eni_id="", state=BranchENIState.CREATING)
    BranchENIFactory(trunk=trunk, vlan_id=4, eni_id="", state=BranchENIState.CREATING)


# --- attachments -----------------------------------------------------------------------------


def test_a_pod_uid_has_at_most_one_open_attachment_per_eni():
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="uid-1", since=hours(0))
    expect_refusal(
        lambda: AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="uid-1", since=hours(1)),
        "",
    )
    assert Attachment.objects.filter(eni_id=ENI).count() == 1


def test_an_eni_has_at_most_one_open_attachment():
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="uid-1", since=hours(0))
    expect_refusal(
        lambda: AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="uid-2", since=hours(-1)),
        "",
    )
    assert Attachment.objects.filter(eni_id=ENI).count() == 1


@contextlib.contextmanager
def overlap_guard_dropped():
    """Drop migration 0002's overlap guard for the block (rolled back afterwards), to show
    the one-open-attachment constraints hold on their own."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ALTER TABLE inventory_attachment DROP CONSTRAINT attachment_no_overlap_per_eni"
                )
            else:
                cursor.execute("DROP TRIGGER attachment_no_overlap_insert")
                cursor.execute("DROP TRIGGER attachment_no_overlap_update")
        yield
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("second_uid", "constraint"),
    [
        ("uid-1", "attachment_one_open_per_eni"),  # same pod: both constraints apply
        ("uid-2", "attachment_one_open_per_eni"),
    ],
)
def test_one_open_attachment_constraints_hold_without_the_overlap_guard(second_uid, constraint):
    cluster = ClusterFactory()
    with overlap_guard_dropped():
        AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="uid-1", since=hours(0))
        error = expect_refusal(
            lambda: AttachmentFactory(
                cluster=cluster, eni_id=ENI, pod_uid=second_uid, since=hours(1)
            ),
            "" if connection.vendor == "sqlite" else constraint,
        )
        assert "eni_id" in str(error)
        # Without the guard, overlapping closed intervals would now be accepted.
        AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(-3), until=hours(2))
    # Rolled back: the rows are gone and the guard is back.
    assert not Attachment.objects.exists()
    AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(0))
    expect_refusal(
        lambda: AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(-3), until=hours(2)),
        "attachment_no_overlap_per_eni",
    )


@pytest.mark.parametrize(
    ("existing", "new"),
    [
        ((0, 2), (1, 3)),  # overlaps the end
        ((1, 3), (0, 2)),  # overlaps the start
        ((0, 4), (1, 2)),  # inside
        ((1, 2), (0, 4)),  # around
        ((0, 2), (0, 2)),  # the same interval
        ((0, 2), (1, None)),  # an open attachment starting inside a closed one
        ((1, None), (0, 2)),  # a closed one reaching into an open one
        ((1, None), (3, 4)),  # a closed one after an open one started
    ],
)
def test_attachment_intervals_of_one_eni_never_overlap(existing, new):
    cluster = ClusterFactory()

    def attachment(interval, uid):
        since, until = interval
        return AttachmentFactory(
            cluster=cluster,
            eni_id=ENI,
            pod_uid=uid,
            since=hours(since),
            until=None if until is None else hours(until),
        )

    attachment(existing, "uid-1")
    expect_refusal(lambda: attachment(new, "uid-2"), "")
    assert Attachment.objects.filter(eni_id=ENI).count() == 1


def test_overlap_is_refused_on_update_too():
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(0), until=hours(1))
    later = AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(2), until=hours(3))
    expect_refusal(
        lambda: Attachment.objects.filter(pk=later.pk).update(since=hours(0.5)),
        "",
    )
    later.refresh_from_db()
    assert later.since == hours(2)


def test_overlap_is_refused_for_bulk_inserts():
    cluster = ClusterFactory()
    rows = [
        Attachment(
            cluster=cluster,
            eni_id=ENI,
            node_name="n",
            pod_uid=f"u{i}",
            pod_namespace="d",
            pod_name=f"p{i}",
            vlan_id=1,
            since=hours(i),
            until=hours(i + 2),
        )
        for i in range(2)
    ]
    expect_refusal(lambda: Attachment.objects.bulk_create(rows), "")
    assert not Attachment.objects.exists()


def test_back_to_back_and_separate_closed_attachments_are_fine():
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="a", since=hours(0), until=hours(1))
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="b", since=hours(1), until=hours(2))
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="a", since=hours(5), until=hours(6))
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="c", since=hours(6))  # open, after
    assert Attachment.objects.filter(eni_id=ENI).count() == 4


def test_closing_the_open_attachment_then_opening_the_next_is_fine():
    cluster = ClusterFactory()
    first = AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="a", since=hours(0))
    first.until = hours(1)
    first.save()
    AttachmentFactory(cluster=cluster, eni_id=ENI, pod_uid="b", since=hours(1))
    assert Attachment.objects.filter(eni_id=ENI, until__isnull=True).get().pod_uid == "b"


def test_other_enis_may_overlap_freely():
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(0))
    AttachmentFactory(cluster=cluster, eni_id="eni-0000000000000000b", since=hours(0))
    assert Attachment.objects.count() == 2


@pytest.mark.parametrize("until", [0, -1])
def test_an_attachment_must_end_after_it_starts(until):
    expect_refusal(
        lambda: AttachmentFactory(eni_id=ENI, since=hours(0), until=hours(until)),
        "attachment_interval_positive" if connection.vendor == "postgresql" else "CHECK",
    )


# --- the mechanism behind the overlap rule, per backend ------------------------------------


@pytest.mark.postgres
def test_postgresql_has_the_exclusion_constraint():
    if connection.vendor != "postgresql":
        pytest.skip("runs with DATABASE_URL=postgres://...")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contype FROM pg_constraint WHERE conname = 'attachment_no_overlap_per_eni'"
        )
        assert cursor.fetchall() == [("x",)]
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(0))
    error = expect_refusal(
        lambda: AttachmentFactory(
            cluster=cluster, eni_id=ENI, pod_uid="x", since=hours(-2), until=hours(1)
        ),
        "attachment_no_overlap_per_eni",
    )
    assert type(error.__cause__).__name__ == "ExclusionViolation"


def test_sqlite_has_the_overlap_triggers():
    if connection.vendor != "sqlite":
        pytest.skip("runs on the embedded SQLite database")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
            "'inventory_attachment' ORDER BY name"
        )
        assert [row[0] for row in cursor.fetchall()] == [
            "attachment_no_overlap_insert",
            "attachment_no_overlap_update",
        ]
    cluster = ClusterFactory()
    AttachmentFactory(cluster=cluster, eni_id=ENI, since=hours(0))
    expect_refusal(
        lambda: AttachmentFactory(
            cluster=cluster, eni_id=ENI, pod_uid="x", since=hours(-2), until=hours(1)
        ),
        "attachment_no_overlap_per_eni",
    )
