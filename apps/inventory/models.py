"""What exists: clusters, their nodes, pods and service accounts, security groups,
trunk and branch ENIs, and the attachment history of branch ENIs to pods.

The database itself forbids impossible states (see the constraints on each model
and migration 0002 for the interval check that Django cannot express portably).
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from apps.core.models import ChangeLoggedModel
from apps.core.querysets import ScopedQuerySet

DNS_LABEL = RegexValidator(
    r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
    "Must be a DNS-1123 label: lower-case letters, digits and '-', 1-63 characters.",
)
MIN_COOLDOWN_SECONDS = 30
DEFAULT_COOLDOWN_SECONDS = 60
MAX_VLAN_ID = 4094


class Cluster(ChangeLoggedModel):
    """A Kubernetes cluster in one VPC, and how to reach its API server and EC2."""

    name = models.SlugField(max_length=63, unique=True, validators=[DNS_LABEL])
    region = models.CharField(max_length=32, default="us-west-2")
    vpc_id = models.CharField(max_length=32, validators=[RegexValidator(r"^vpc-[0-9a-f]{8,17}$")])
    description = models.CharField(max_length=200, blank=True)
    kubeconfig_path = models.CharField(
        max_length=500, blank=True, help_text="Path to a kubeconfig file; empty with in_cluster."
    )
    kube_context = models.CharField(max_length=200, blank=True)
    in_cluster = models.BooleanField(default=False, help_text="Use the pod's service account.")
    kube_api_url = models.URLField(
        blank=True, help_text="Override of the API server address (local stand-ins)."
    )
    ec2_endpoint_url = models.URLField(
        blank=True, help_text="Override of the EC2 endpoint (local stand-ins)."
    )
    branch_cooldown_seconds = models.PositiveIntegerField(
        default=DEFAULT_COOLDOWN_SECONDS,
        validators=[MinValueValidator(MIN_COOLDOWN_SECONDS)],
        help_text="How long a released branch ENI cools down before deletion.",
    )

    objects = ScopedQuerySet.as_manager()

    scope_cluster_field = "name"
    scope_namespace_field = None

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, str]:
        return (self.name, "")


class ClusterScopedModel(ChangeLoggedModel):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")

    objects = ScopedQuerySet.as_manager()
    scope_cluster_field = "cluster__name"
    scope_namespace_field: str | None = None

    class Meta:
        abstract = True

    def audit_data(self):
        data = super().audit_data()
        data["cluster"] = self.cluster.name
        data.pop("cluster_id", None)
        return data


class NamespacedModel(ClusterScopedModel):
    namespace = models.CharField(max_length=63, validators=[DNS_LABEL])
    scope_namespace_field = "namespace"

    class Meta:
        abstract = True


class Node(ClusterScopedModel):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=64, blank=True)
    instance_id = models.CharField(max_length=32, blank=True, db_index=True)
    instance_type = models.CharField(max_length=32, blank=True)
    os = models.CharField(max_length=16, default="linux")
    labels = models.JSONField(default=dict, blank=True)
    cninode_features = models.JSONField(default=list, blank=True)
    subnet_id = models.CharField(max_length=32, blank=True)
    # The subnet's CIDRs and the instance's account: written on trunk init, read into every
    # branch ENI's annotation and permission call (saves a DescribeSubnets per pod).
    subnet_cidr = models.CharField(max_length=43, blank=True)
    subnet_v6_cidr = models.CharField(max_length=43, blank=True)
    account_id = models.CharField(max_length=12, blank=True)
    security_group_ids = models.JSONField(default=list, blank=True)
    managed = models.BooleanField(default=False)
    branch_capacity = models.PositiveIntegerField(default=0)
    status_note = models.CharField(max_length=300, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    audit_exclude_fields = ("created", "updated", "labels")

    class Meta:
        ordering = ("cluster", "name")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="node_unique_name_per_cluster")
        ]

    def __str__(self) -> str:
        return self.name


class ServiceAccount(NamespacedModel):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="service_accounts")
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("cluster", "namespace", "name")
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "name"], name="serviceaccount_unique_per_namespace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class Pod(NamespacedModel):
    class Phase(models.TextChoices):
        PENDING = "Pending"
        RUNNING = "Running"
        SUCCEEDED = "Succeeded"
        FAILED = "Failed"
        UNKNOWN = "Unknown"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="pods")
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=64)
    node_name = models.CharField(max_length=253, blank=True, db_index=True)
    service_account_name = models.CharField(max_length=253, default="default")
    labels = models.JSONField(default=dict, blank=True)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.PENDING)
    host_network = models.BooleanField(default=False)
    requests_pod_eni = models.BooleanField(default=False)
    pod_eni_annotation = models.JSONField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    audit_exclude_fields = ("created", "updated", "labels")

    class Meta:
        ordering = ("cluster", "namespace", "name")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "uid"], name="pod_unique_uid_per_cluster")
        ]
        indexes = [models.Index(fields=["cluster", "namespace", "name"])]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class SecurityGroup(ClusterScopedModel):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="security_groups")
    group_id = models.CharField(max_length=32)
    name = models.CharField(max_length=255, blank=True)
    description = models.CharField(max_length=255, blank=True)
    vpc_id = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ("cluster", "group_id")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "group_id"], name="sg_unique_per_cluster")
        ]

    def __str__(self) -> str:
        return f"{self.group_id} ({self.name})" if self.name else self.group_id


class TrunkENI(ClusterScopedModel):
    """A node's trunk ENI, on the instance it was made for.

    A node name can come back on a new instance (EKS reuses ``ip-...compute.internal``): the
    old instance's trunk is then retired, its ``node`` cleared (the row stays for the branch
    rows that name it), and the node gets a new trunk row.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="trunks")
    node = models.OneToOneField(
        Node, null=True, blank=True, on_delete=models.CASCADE, related_name="trunk",
        help_text="Empty once retired: the node moved to another instance.")
    instance_id = models.CharField(max_length=32, blank=True)
    eni_id = models.CharField(max_length=32, unique=True)
    mac = models.CharField(max_length=17, blank=True)
    subnet_id = models.CharField(max_length=32, blank=True)
    device_index = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ("cluster", "node")

    def __str__(self) -> str:
        return self.eni_id


class BranchENIState(models.TextChoices):
    CREATING = "creating"  # CreateNetworkInterface issued, not yet associated
    ATTACHED = "attached"  # associated with the trunk, serving a pod
    COOLING = "cooling"  # pod gone, waiting out the cooldown before deletion
    DELETING = "deleting"  # disassociate/delete in progress or retrying
    LEAKED = "leaked"  # deletion keeps failing: handed to the sweep, VLAN still held
    DELETED = "deleted"  # gone from EC2; history only


LIVE_BRANCH_STATES = [
    BranchENIState.CREATING,
    BranchENIState.ATTACHED,
    BranchENIState.COOLING,
    BranchENIState.DELETING,
    BranchENIState.LEAKED,
]


class BranchENI(ClusterScopedModel):
    """One branch ENI on a trunk, under one VLAN id, while it (or its VLAN) is held."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="branches")
    trunk = models.ForeignKey(TrunkENI, on_delete=models.PROTECT, related_name="branches")
    node_name = models.CharField(max_length=253, db_index=True)
    eni_id = models.CharField(max_length=32, blank=True, db_index=True)
    vlan_id = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(MAX_VLAN_ID)]
    )
    mac = models.CharField(max_length=17, blank=True)
    private_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    ipv6_address = models.GenericIPAddressField(null=True, blank=True)
    subnet_id = models.CharField(max_length=32, blank=True)
    subnet_cidr = models.CharField(max_length=43, blank=True)
    subnet_v6_cidr = models.CharField(max_length=43, blank=True)
    association_id = models.CharField(max_length=64, blank=True)
    security_group_ids = models.JSONField(default=list)
    pod_uid = models.CharField(max_length=64, db_index=True)
    pod_namespace = models.CharField(max_length=63)
    pod_name = models.CharField(max_length=253)
    state = models.CharField(
        max_length=10, choices=BranchENIState.choices, default=BranchENIState.CREATING
    )
    cooling_since = models.DateTimeField(null=True, blank=True)
    delete_attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("cluster", "node_name", "vlan_id")
        constraints = [
            models.UniqueConstraint(
                fields=["trunk", "vlan_id"],
                condition=Q(state__in=LIVE_BRANCH_STATES),
                name="branch_live_vlan_unique_per_trunk",
            ),
            models.UniqueConstraint(
                fields=["eni_id"],
                condition=~Q(eni_id="") & Q(state__in=LIVE_BRANCH_STATES),
                name="branch_live_eni_unique",
            ),
            models.CheckConstraint(
                condition=Q(vlan_id__gte=1) & Q(vlan_id__lte=MAX_VLAN_ID),
                name="branch_vlan_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.eni_id or '(creating)'} vlan {self.vlan_id} on {self.node_name}"

    def audit_scope(self) -> tuple[str, str]:
        return (self.cluster.name, self.pod_namespace)


class Attachment(models.Model):
    """Which pod held which branch ENI (and so which IP and groups), from when until when.

    Append-mostly history: a row is opened when a branch ENI is annotated on a pod and
    closed (``until`` set) when it is released. It answers "who had 10.0.1.20 at 14:02".
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="attachments")
    branch = models.ForeignKey(
        BranchENI, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    eni_id = models.CharField(max_length=32, db_index=True)
    node_name = models.CharField(max_length=253)
    pod_uid = models.CharField(max_length=64, db_index=True)
    pod_namespace = models.CharField(max_length=63)
    pod_name = models.CharField(max_length=253)
    private_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    mac = models.CharField(max_length=17, blank=True)
    vlan_id = models.PositiveSmallIntegerField()
    security_group_ids = models.JSONField(default=list)
    since = models.DateTimeField(db_index=True)
    until = models.DateTimeField(null=True, blank=True, db_index=True)

    objects = ScopedQuerySet.as_manager()
    scope_cluster_field = "cluster__name"
    scope_namespace_field = "pod_namespace"

    class Meta:
        ordering = ("-since", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["eni_id", "pod_uid"],
                condition=Q(until__isnull=True),
                name="attachment_one_open_per_eni_and_pod",
            ),
            models.UniqueConstraint(
                fields=["eni_id"],
                condition=Q(until__isnull=True),
                name="attachment_one_open_per_eni",
            ),
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gt=models.F("since")),
                name="attachment_interval_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pod_namespace}/{self.pod_name} on {self.eni_id} since {self.since:%Y-%m-%d %H:%M:%S}"


class NodeReport(models.Model):
    """The node agent's latest account of what is really plumbed on one node.

    ``disagreements`` is computed when the report arrives (apps.inventory.node_reports):
    every place where the node and the controller's records tell different stories.
    """

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="node_reports")
    node_name = models.CharField(max_length=253)
    received_at = models.DateTimeField()
    agent_version = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=16, blank=True)
    report = models.JSONField()
    disagreements = models.JSONField(default=list)

    objects = ScopedQuerySet.as_manager()
    scope_cluster_field = "cluster__name"
    scope_namespace_field = None

    class Meta:
        ordering = ("cluster", "node_name")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "node_name"], name="nodereport_one_per_node")
        ]

    def __str__(self) -> str:
        return f"report from {self.node_name} at {self.received_at:%Y-%m-%d %H:%M:%S}"

    def visible_to(self, user) -> tuple[dict, list[dict]]:
        """The report and its disagreements cut to the namespaces ``user`` may view in this
        cluster: the row is visible cluster-wide, the pods in it are not."""
        from apps.accounts.scoping import user_can

        from .node_reports import visible_part

        # namespace "" asks for a binding that covers every namespace of the cluster
        return visible_part(
            self.report,
            self.disagreements,
            lambda namespace: user_can(user, "view", self.cluster.name, namespace),
        )
