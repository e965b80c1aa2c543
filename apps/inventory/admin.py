from django.contrib import admin
from django.db import models

from apps.core.admin import ReadOnlyModelAdmin

from .models import (
    Attachment,
    BranchENI,
    Cluster,
    Node,
    NodeReport,
    Pod,
    SecurityGroup,
    ServiceAccount,
    TrunkENI,
)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "region", "vpc_id", "in_cluster", "branch_cooldown_seconds")
    search_fields = ("name", "vpc_id", "description")


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = ("name", "cluster", "instance_type", "managed", "branch_capacity", "deleted_at")
    list_filter = ("cluster", "managed")
    search_fields = ("name", "instance_id")
    list_select_related = ("cluster",)


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "namespace", "cluster")
    list_filter = ("cluster",)
    search_fields = ("name", "namespace")
    list_select_related = ("cluster",)


@admin.register(Pod)
class PodAdmin(admin.ModelAdmin):
    list_display = ("name", "namespace", "cluster", "node_name", "phase", "requests_pod_eni")
    list_filter = ("cluster", "phase")
    search_fields = ("name", "namespace", "uid", "node_name")
    list_select_related = ("cluster",)


@admin.register(SecurityGroup)
class SecurityGroupAdmin(admin.ModelAdmin):
    list_display = ("group_id", "name", "cluster", "vpc_id")
    list_filter = ("cluster",)
    search_fields = ("group_id", "name")
    list_select_related = ("cluster",)


@admin.register(TrunkENI)
class TrunkENIAdmin(admin.ModelAdmin):
    list_display = ("eni_id", "node", "instance_id", "cluster", "device_index")
    list_filter = ("cluster",)
    search_fields = ("eni_id", "instance_id")
    list_select_related = ("cluster", "node")


@admin.register(BranchENI)
class BranchENIAdmin(admin.ModelAdmin):
    list_display = ("eni_id", "vlan_id", "node_name", "pod_namespace", "pod_name", "state")
    list_filter = ("cluster", "state")
    search_fields = ("eni_id", "pod_name", "pod_uid", "private_ip")


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("private_ip", "pod_namespace", "pod_name", "eni_id", "since", "until")
    list_filter = ("cluster",)
    search_fields = ("private_ip", "pod_name", "pod_uid", "eni_id")


@admin.register(NodeReport)
class NodeReportAdmin(ReadOnlyModelAdmin):
    """The node agents' latest reports, as they sent them."""

    list_display = ("node_name", "cluster", "received_at", "agent_version", "mode")
    list_filter = ("cluster",)
    search_fields = ("node_name",)
