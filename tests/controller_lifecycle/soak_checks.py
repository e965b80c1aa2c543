"""The soak's end-state invariants, read from EC2, the cluster and the database.

- leaked ENIs: branch ENIs EC2 still has that no live pod's annotation names;
- leaked rows: branch rows given up as ``leaked`` (their VLAN still held);
- wrong groups: a live pod whose ENI carries other groups than its policy (or node) gives;
- two ENIs: a live pod with two annotation entries or two live rows, or an ENI two pods name;
- VLAN twice: two live branches on one trunk under one VLAN (EC2 associations, or rows), or
  an annotation whose VLAN is not the association's;
- unexplained: a live pod that wants a branch, has none and no Warning event saying why.
"""

from __future__ import annotations

import json
from collections import Counter

POD_ENI = "vpc.amazonaws.com/pod-eni"
GONE_PHASES = ("Succeeded", "Failed")


def _live_pods(world) -> list[dict]:
    items = world.core.api_client.sanitize_for_serialization(
        world.core.list_namespaced_pod("default")).get("items", [])
    return [p for p in items if (p.get("status") or {}).get("phase") not in GONE_PHASES
            and not p["metadata"].get("deletionTimestamp")]


def check_world(world, ec2_standin) -> dict:
    from apps.inventory.models import LIVE_BRANCH_STATES, BranchENI, BranchENIState

    seeder = world.ec2_seeder
    enis = {e["NetworkInterfaceId"]: e for e in seeder.describe_network_interfaces(Filters=[
        {"Name": "description", "Values": ["aws-k8s-branch-eni"]}])["NetworkInterfaces"]}
    associations = seeder.describe_trunk_interface_associations()["InterfaceAssociations"]
    vlan_of = {a["BranchInterfaceId"]: a["VlanId"] for a in associations}
    pods = _live_pods(world)
    claims: Counter = Counter()
    wrong_groups, two_enis, unexplained, vlan_mismatch = [], [], [], []
    for pod in pods:
        meta = pod["metadata"]
        value = (meta.get("annotations") or {}).get(POD_ENI)
        if not value:
            events = world.events(meta["name"])
            if not any(kind == "Warning" for kind, _reason, _message in events):
                unexplained.append(meta["name"])
            continue
        entries = json.loads(value)
        if len(entries) != 1:
            two_enis.append(meta["name"])
        for entry in entries:
            claims[entry["eniId"]] += 1
            eni = enis.get(entry["eniId"])
            expected = ([world.group_ids["web"]] if (meta.get("labels") or {}).get("app") == "web"
                        else [world.node_group_id])
            if eni is None or [g["GroupId"] for g in eni.get("Groups", [])] != expected:
                wrong_groups.append(meta["name"])
            if vlan_of.get(entry["eniId"]) != entry["vlanId"]:
                vlan_mismatch.append(meta["name"])
    two_enis += [e for e, n in claims.items() if n > 1]
    rows = BranchENI.objects.filter(cluster=world.cluster, state__in=LIVE_BRANCH_STATES)
    per_pod = Counter(rows.filter(state__in=[BranchENIState.CREATING, BranchENIState.ATTACHED])
                      .values_list("pod_uid", flat=True))
    two_enis += [uid for uid, n in per_pod.items() if n > 1]
    trunk_of = {a["BranchInterfaceId"]: a["TrunkInterfaceId"] for a in associations}
    vlan_twice = [k for k, n in Counter((trunk_of[b], v) for b, v in vlan_of.items()).items()
                  if n > 1]
    vlan_twice += [k for k, n in Counter(rows.values_list("trunk_id", "vlan_id")).items() if n > 1]
    leaked_enis = sorted(set(enis) - set(claims))
    # An annotated live pod whose ENI has no attached row: its VLAN looks free to the
    # controller, which would hand it to another pod.
    tracked = set(rows.filter(state=BranchENIState.ATTACHED).values_list("eni_id", flat=True))
    untracked = sorted(set(claims) - tracked)
    report = {
        "live_pods": len(pods), "annotated_pods": sum(1 for _ in claims.elements()),
        "branch_enis_in_ec2": len(enis), "leaked_enis": leaked_enis,
        "untracked_enis": untracked,
        "leaked_rows": rows.filter(state=BranchENIState.LEAKED).count(),
        "wrong_groups": wrong_groups, "two_enis": two_enis,
        "vlan_twice": [list(map(str, k)) for k in vlan_twice], "vlan_mismatch": vlan_mismatch,
        "unexplained": unexplained,
        "rows_by_state": dict(Counter(BranchENI.objects.filter(cluster=world.cluster)
                                      .values_list("state", flat=True))),
    }
    report["ok"] = not any(report[k] for k in ("leaked_enis", "untracked_enis",
                                               "leaked_rows", "wrong_groups",
                                               "two_enis", "vlan_twice", "vlan_mismatch",
                                               "unexplained"))
    return report
