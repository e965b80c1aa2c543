"""The policy sync decisions, one rule per test (apps.policies.sync.plan docstring)."""

from apps.policies.sync.plan import ClusterPolicy, DriftMode, Op, StoredPolicy, plan_sync

SPEC_A = {
    "podSelector": {"matchLabels": {"app": "a"}},
    "securityGroups": {"groupIds": ["sg-00000001"]},
}
SPEC_B = {
    "podSelector": {"matchLabels": {"app": "b"}},
    "securityGroups": {"groupIds": ["sg-00000002"]},
}


def stored(spec=SPEC_A, governed=True, version=1, synced_version=None, synced_rv=""):
    return StoredPolicy("default", "p", spec, governed, version, synced_version, synced_rv)


def in_cluster(spec=SPEC_A, rv="10", ours=True):
    return ClusterPolicy("default", "p", spec, rv, "uid-1", ours)


def only(plan):
    assert len(plan.actions) == 1, plan.actions
    return plan.actions[0]


def test_new_governed_policy_is_created_in_the_cluster_without_drift():
    action = only(plan_sync([stored()], [], DriftMode.RESTORE))
    assert (action.op, action.drift, action.spec) == (Op.CREATE_IN_CLUSTER, False, SPEC_A)


def test_synced_policy_deleted_out_of_band_is_restored_as_drift():
    action = only(plan_sync([stored(synced_version=1, synced_rv="10")], [], DriftMode.RESTORE))
    assert (action.op, action.drift) == (Op.CREATE_IN_CLUSTER, True)


def test_observed_policy_deleted_in_the_cluster_leaves_the_database_too():
    action = only(
        plan_sync([stored(governed=False, synced_version=1, synced_rv="10")], [], DriftMode.RESTORE)
    )
    assert action.op == Op.DELETE_FROM_DATABASE


def test_object_we_wrote_but_no_longer_have_is_deleted_from_the_cluster():
    action = only(plan_sync([], [in_cluster(ours=True)], DriftMode.RESTORE))
    assert action.op == Op.DELETE_FROM_CLUSTER


def test_foreign_object_is_imported_not_deleted():
    action = only(plan_sync([], [in_cluster(ours=False)], DriftMode.ADOPT))
    assert (action.op, action.spec, action.resource_version) == (
        Op.IMPORT_FROM_CLUSTER,
        SPEC_A,
        "10",
    )


def test_in_step_policy_needs_nothing():
    plan = plan_sync(
        [stored(synced_version=1, synced_rv="10")], [in_cluster(rv="10")], DriftMode.RESTORE
    )
    assert plan.actions == []


def test_in_step_spec_with_new_resource_version_only_updates_bookkeeping():
    action = only(
        plan_sync(
            [stored(synced_version=1, synced_rv="10")], [in_cluster(rv="11")], DriftMode.RESTORE
        )
    )
    assert (action.op, action.resource_version) == (Op.MARK_SYNCED, "11")


def test_same_spec_without_our_label_is_claimed():
    action = only(plan_sync([stored()], [in_cluster(ours=False)], DriftMode.RESTORE))
    assert action.op == Op.UPDATE_IN_CLUSTER and not action.drift


def test_our_edit_is_pushed_when_the_cluster_object_is_the_one_we_wrote():
    ours = stored(spec=SPEC_B, version=2, synced_version=1, synced_rv="10")
    action = only(plan_sync([ours], [in_cluster(rv="10")], DriftMode.ADOPT))
    assert (action.op, action.spec, action.drift) == (Op.UPDATE_IN_CLUSTER, SPEC_B, False)


def test_out_of_band_edit_is_restored_in_restore_mode():
    ours = stored(version=1, synced_version=1, synced_rv="10")
    action = only(plan_sync([ours], [in_cluster(spec=SPEC_B, rv="11")], DriftMode.RESTORE))
    assert (action.op, action.spec, action.drift) == (Op.UPDATE_IN_CLUSTER, SPEC_A, True)


def test_out_of_band_edit_is_adopted_in_adopt_mode():
    ours = stored(version=1, synced_version=1, synced_rv="10")
    action = only(plan_sync([ours], [in_cluster(spec=SPEC_B, rv="11")], DriftMode.ADOPT))
    assert (action.op, action.spec, action.drift) == (Op.UPDATE_FROM_CLUSTER, SPEC_B, True)


def test_adopt_mode_never_loses_an_edit_made_here_since_the_last_sync():
    ours = stored(spec=SPEC_A, version=3, synced_version=2, synced_rv="10")
    action = only(plan_sync([ours], [in_cluster(spec=SPEC_B, rv="11")], DriftMode.ADOPT))
    assert (action.op, action.spec, action.drift) == (Op.UPDATE_IN_CLUSTER, SPEC_A, True)


def test_observed_policy_mirrors_the_cluster():
    ours = stored(governed=False, synced_version=1, synced_rv="10")
    action = only(
        plan_sync([ours], [in_cluster(spec=SPEC_B, rv="11", ours=False)], DriftMode.RESTORE)
    )
    assert (action.op, action.spec, action.drift) == (Op.UPDATE_FROM_CLUSTER, SPEC_B, False)


def test_plan_covers_each_key_once_in_a_stable_order():
    a = StoredPolicy("a", "x", SPEC_A, True, 1, None, "")
    b = ClusterPolicy("b", "y", SPEC_B, "5", "u", False)
    plan = plan_sync([a], [b], DriftMode.RESTORE)
    assert [act.key for act in plan.actions] == [("a", "x"), ("b", "y")]
