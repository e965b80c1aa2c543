"""The resources the Kubernetes stand-in serves, and one fix to kmock's URL parsing.

``SERVED_RESOURCES`` is what sgpadmin talks to: core v1 pods, nodes, namespaces, service
accounts, events, config maps; coordination leases (leader election); the two
``vpcresources.k8s.aws`` custom resources. More can be passed to the emulator.

kmock 0.8 cannot parse ``/api/v1/namespaces`` (it raises) nor ``/api/v1/namespaces/<name>``
(it takes the name for a namespace and loses the resource); :func:`install_namespace_paths`
wraps its parser so that namespaces are an ordinary cluster-scoped resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kmock._internal import parsing


@dataclass(frozen=True)
class ServedResource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    # Subresources; "status" means writes to the object keep its status and vice versa.
    subresources: frozenset[str] = field(default_factory=frozenset)

    @property
    def key(self) -> str:
        return (
            f"{self.group}/{self.version}/{self.plural}"
            if self.group
            else (f"{self.version}/{self.plural}")
        )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def is_builtin(self) -> bool:
        """Built-in kinds accept strategic merge patches; custom resources do not."""
        return "." not in self.group or self.group.endswith(".k8s.io")


VPC_RESOURCES_GROUP = "vpcresources.k8s.aws"
STATUS = frozenset({"status"})

SERVED_RESOURCES: tuple[ServedResource, ...] = (
    ServedResource("", "v1", "pods", "Pod", True, ("po",), frozenset({"status", "binding"})),
    ServedResource("", "v1", "nodes", "Node", False, ("no",), STATUS),
    ServedResource("", "v1", "namespaces", "Namespace", False, ("ns",), STATUS),
    ServedResource("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    ServedResource("", "v1", "events", "Event", True, ("ev",)),
    ServedResource("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    ServedResource("coordination.k8s.io", "v1", "leases", "Lease", True),
    ServedResource("events.k8s.io", "v1", "events", "Event", True, ("ev",)),
    ServedResource(
        VPC_RESOURCES_GROUP,
        "v1beta1",
        "securitygrouppolicies",
        "SecurityGroupPolicy",
        True,
        ("sgp",),
    ),
    ServedResource(VPC_RESOURCES_GROUP, "v1alpha1", "cninodes", "CNINode", False, ("cnd",)),
)

INITIAL_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_NAMESPACES_PATH = re.compile(
    r"^/api/(?P<version>[^/]+)/namespaces(?:/(?P<name>[^/]+)"
    r"(?:/(?P<subresource>.+))?)?/?$"
)
_kmock_parse_path = parsing.parse_path


def parse_path_with_namespaces(path: str) -> parsing.ParsedPath:
    """kmock's parser, except that ``/api/v1/namespaces[/<name>[/<sub>]]`` addresses the
    cluster-scoped resource ``namespaces`` (a namespaced path like
    ``/api/v1/namespaces/ns/pods`` still goes to kmock)."""
    match = _NAMESPACES_PATH.match(path)
    if match and (match["subresource"] in (None, "status", "finalize")):
        return parsing.ParsedPath(
            "", match["version"], "namespaces", None, match["name"], match["subresource"]
        )
    return _kmock_parse_path(path)


def install_namespace_paths() -> None:
    """Swap the parser in (idempotent; kmock looks it up on the module at each request)."""
    parsing.parse_path = parse_path_with_namespaces
