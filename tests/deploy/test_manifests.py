"""The deployment manifests parse, and carry the wire names the real cluster expects."""

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def documents():
    for path in sorted(DEPLOY.rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path.name, doc


def by_kind(kind):
    return [doc for _, doc in documents() if doc["kind"] == kind]


def test_every_manifest_parses_and_names_its_kind():
    docs = list(documents())
    assert docs, "deploy/ holds no manifests"
    for name, doc in docs:
        assert {"apiVersion", "kind"} <= set(doc), name
        if doc["kind"] != "Kustomization":  # kustomize's own file carries no metadata
            assert "metadata" in doc, name


def test_securitygrouppolicy_crd_matches_the_aws_names():
    (crd,) = [
        d
        for d in by_kind("CustomResourceDefinition")
        if d["spec"]["names"]["kind"] == "SecurityGroupPolicy"
    ]
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "securitygrouppolicies.vpcresources.k8s.aws"
    assert (spec["group"], spec["scope"]) == ("vpcresources.k8s.aws", "Namespaced")
    assert spec["names"]["plural"] == "securitygrouppolicies"
    assert spec["names"]["shortNames"] == ["sgp"]
    (version,) = spec["versions"]
    assert version["name"] == "v1beta1" and version["storage"]
    props = version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    assert set(props) == {"podSelector", "serviceAccountSelector", "securityGroups"}
    assert props["securityGroups"]["properties"]["groupIds"]["minItems"] == 1
    assert "maxItems" not in props["securityGroups"]["properties"]["groupIds"]
    ops = props["podSelector"]["properties"]["matchExpressions"]["items"]["required"]
    assert ops == ["key", "operator"]


def test_cninode_crd_is_cluster_scoped_v1alpha1():
    (crd,) = [
        d for d in by_kind("CustomResourceDefinition") if d["spec"]["names"]["kind"] == "CNINode"
    ]
    assert crd["spec"]["scope"] == "Cluster"
    assert [v["name"] for v in crd["spec"]["versions"]] == ["v1alpha1"]


def test_controller_may_do_what_the_controller_does():
    (role,) = [r for r in by_kind("ClusterRole") if r["metadata"]["name"] == "sgpadmin-controller"]
    granted = {
        (g, r): set(rule["verbs"])
        for rule in role["rules"]
        for g in rule["apiGroups"]
        for r in rule["resources"]
    }
    assert "patch" in granted[("", "nodes/status")]
    assert "patch" in granted[("", "pods")]
    assert {"create", "update", "delete"} <= granted[
        ("vpcresources.k8s.aws", "securitygrouppolicies")
    ]


def test_the_node_agent_runs_everywhere_with_the_host_network():
    (daemonset,) = by_kind("DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["hostNetwork"] is True
    env = {e["name"] for e in pod["containers"][0]["env"]}
    assert {"MY_NODE_NAME", "POD_SECURITY_GROUP_ENFORCING_MODE", "SGP_REPORT_URL"} <= env


def test_the_node_agent_sees_network_namespaces_mounted_after_it_started():
    (daemonset,) = by_kind("DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    mounts = {m["mountPath"]: m for m in pod["containers"][0]["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    run = mounts["/var/run"]
    assert volumes[run["name"]]["hostPath"]["path"] == "/var/run"
    assert run["mountPropagation"] == "HostToContainer"


def test_one_beat_and_one_watcher():
    replicas = {d["metadata"]["name"]: d["spec"]["replicas"] for d in by_kind("Deployment")}
    assert replicas["sgpadmin-beat"] == 1
    assert replicas["sgpadmin-watcher"] == 1


def test_workers_keep_their_database_connections_between_tasks():
    (worker,) = [d for d in by_kind("Deployment") if d["metadata"]["name"] == "sgpadmin-worker"]
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert int(env["DATABASE_CONN_MAX_AGE"]) > 0
    assert container["command"] == ["python", "-m", "worker", "worker"]  # the threads pool
