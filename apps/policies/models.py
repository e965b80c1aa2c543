"""The SecurityGroupPolicy as sgpadmin governs it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from apps.core.context import ChangeContext, current_scope
from apps.core.models import ChangeLoggedModel
from apps.core.querysets import ScopedQuerySet
from apps.inventory.models import Cluster

from .matching import PolicyView, group_ids_of
from .validation import validate_policy

API_VERSION = "vpcresources.k8s.aws/v1beta1"
KIND = "SecurityGroupPolicy"


class Origin(models.TextChoices):
    UI = "ui", "UI"
    API = "api", "API"
    CLUSTER = "cluster", "Found in the cluster"
    IMPORT = "import", "YAML import"


class PolicyQuerySet(ScopedQuerySet):
    def referencing_group(self, group_id: str):
        """Policies that list ``group_id``; filtered in Python so SQLite and PostgreSQL agree."""
        ids = [p.pk for p in self.only("pk", "spec") if group_id in group_ids_of(p.spec)]
        return self.filter(pk__in=ids)


class Policy(ChangeLoggedModel):
    """One SecurityGroupPolicy. ``spec`` is stored exactly as the CRD's spec."""

    cluster = models.ForeignKey(Cluster, on_delete=models.PROTECT, related_name="policies")
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=63)
    spec = models.JSONField()
    description = models.CharField(max_length=500, blank=True)
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.API)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change.")
    governed = models.BooleanField(
        default=True,
        help_text="sgpadmin is the source of truth. False for a policy only observed in the "
        "cluster; the first edit through the UI or API makes it governed.",
    )
    # Cluster sync bookkeeping (apps.policies.sync): what we last wrote or saw there.
    cluster_resource_version = models.CharField(max_length=64, blank=True)
    cluster_uid = models.CharField(max_length=64, blank=True)
    cluster_synced_version = models.PositiveIntegerField(null=True, blank=True)

    objects = PolicyQuerySet.as_manager()
    scope_cluster_field = "cluster__name"
    scope_namespace_field = "namespace"
    audit_exclude_fields = (
        "created",
        "updated",
        "cluster_resource_version",
        "cluster_uid",
        "cluster_synced_version",
    )

    class Meta:
        ordering = ("cluster", "namespace", "name")
        verbose_name_plural = "policies"
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "name"], name="policy_unique_per_namespace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    def audit_data(self):
        data = super().audit_data()
        data["cluster"] = self.cluster.name
        data.pop("cluster_id", None)
        return data

    def clean(self) -> None:
        report = validate_policy(self.namespace, self.name, self.spec)
        if not report.ok:
            raise ValidationError({path: messages for path, messages in report.errors.items()})

    def save(self, *args, **kwargs):
        if not kwargs.get("update_fields"):
            if self.pk is not None:
                self.version = (self.version or 0) + 1
            if current_scope().context in (ChangeContext.UI, ChangeContext.API):
                self.governed = True  # a person's edit makes sgpadmin the source of truth
        super().save(*args, **kwargs)

    @property
    def group_ids(self) -> list[str]:
        return group_ids_of(self.spec)

    def as_view(self) -> PolicyView:
        return PolicyView(name=self.name, spec=self.spec)

    def to_manifest(self) -> dict:
        """The object as ``kubectl apply`` takes it."""
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": self.spec,
        }
