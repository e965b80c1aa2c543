from apps.inventory.node_reports import ControllerBranch, disagreements, report_errors


def pod(**overrides):
    base = {
        "namespace": "default",
        "name": "postgres-test",
        "uid": "uid-1",
        "vlanId": 1,
        "eniId": "eni-1",
        "branchMac": "02:00:00:00:00:01",
        "podIp": "10.0.1.20",
        "linkUp": True,
        "rulesOk": True,
        "routesOk": True,
        "lastError": None,
    }
    return {**base, **overrides}


BRANCH = ControllerBranch(
    "default", "postgres-test", "uid-1", 1, "eni-1", "02:00:00:00:00:01", "10.0.1.20"
)


def report(*pods):
    return {"schemaVersion": 1, "node": {"name": "n1"}, "pods": list(pods)}


def test_agreement_gives_nothing():
    assert disagreements(report(pod()), [BRANCH]) == []


def test_mac_comparison_ignores_case():
    assert disagreements(report(pod(branchMac="02:00:00:00:00:01".upper())), [BRANCH]) == []


def test_branch_without_plumbing_is_not_plumbed():
    (item,) = disagreements(report(), [BRANCH])
    assert item["kind"] == "not-plumbed" and item["pod"] == "default/postgres-test"


def test_plumbing_without_branch_is_unknown_to_controller():
    (item,) = disagreements(report(pod()), [])
    assert item["kind"] == "unknown-to-controller"


def test_each_differing_field_is_named():
    found = disagreements(report(pod(vlanId=2, podIp="10.0.1.21")), [BRANCH])
    details = sorted(item["detail"] for item in found)
    assert [item["kind"] for item in found] == ["mismatch", "mismatch"]
    assert details == [
        "IP: controller has 10.0.1.20, node has 10.0.1.21",
        "VLAN: controller has 1, node has 2",
    ]


def test_unhealthy_plumbing_lists_its_problems():
    (item,) = disagreements(report(pod(linkUp=False, lastError="EEXIST")), [BRANCH])
    assert item["kind"] == "unhealthy"
    assert item["detail"] == "branch link down; last error: EEXIST"


def test_schema_errors_are_field_level():
    errors = report_errors(
        {"schemaVersion": 2, "node": {"name": "other"}, "pods": [{"vlanId": True}]}, "n1"
    )
    assert errors["schemaVersion"] == ["must be 1"]
    assert errors["node.name"] == ["must be 'n1', the node in the URL"]
    assert errors["pods[0].vlanId"] == ["must be a int"]
    assert "pods[0].uid" in errors
    assert report_errors([], "n1") == {"non_field_errors": ["the report must be a JSON object"]}
