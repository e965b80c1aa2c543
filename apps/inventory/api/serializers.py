"""Inventory as the API shows it; clusters are writable (admins), the rest is read-only."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.api.serializers import ChangeNoteSerializer, StrictModelSerializer

from ..models import (
    Attachment,
    BranchENI,
    Cluster,
    Node,
    Pod,
    SecurityGroup,
    ServiceAccount,
    TrunkENI,
)


class ClusterSerializer(ChangeNoteSerializer):
    class Meta:
        model = Cluster
        fields = [
            "id", "name", "region", "vpc_id", "description", "kubeconfig_path", "kube_context",
            "in_cluster", "kube_api_url", "ec2_endpoint_url", "branch_cooldown_seconds",
            "created", "updated", "changelog_message", "ticket_ref",
        ]
        read_only_fields = ["created", "updated"]


class InventorySerializer(StrictModelSerializer):
    cluster = serializers.SlugRelatedField(slug_field="name", read_only=True)


class NodeSerializer(InventorySerializer):
    class Meta:
        model = Node
        fields = [
            "id", "cluster", "name", "uid", "instance_id", "instance_type", "os", "labels",
            "cninode_features", "subnet_id", "security_group_ids", "managed", "branch_capacity",
            "status_note", "deleted_at", "created", "updated",
        ]


class ServiceAccountSerializer(InventorySerializer):
    class Meta:
        model = ServiceAccount
        fields = ["id", "cluster", "namespace", "name", "uid", "labels", "created", "updated"]


class PodSerializer(InventorySerializer):
    class Meta:
        model = Pod
        fields = [
            "id", "cluster", "namespace", "name", "uid", "node_name", "service_account_name",
            "labels", "phase", "host_network", "requests_pod_eni", "pod_eni_annotation",
            "deleted_at", "created", "updated",
        ]


class SecurityGroupSerializer(InventorySerializer):
    class Meta:
        model = SecurityGroup
        fields = ["id", "cluster", "group_id", "name", "description", "vpc_id", "created", "updated"]


class TrunkENISerializer(InventorySerializer):
    node = serializers.SlugRelatedField(slug_field="name", read_only=True)

    class Meta:
        model = TrunkENI
        fields = [
            "id", "cluster", "node", "instance_id", "eni_id", "mac", "subnet_id", "device_index",
            "created", "updated",
        ]


class BranchENISerializer(InventorySerializer):
    trunk = serializers.SlugRelatedField(slug_field="eni_id", read_only=True)

    class Meta:
        model = BranchENI
        fields = [
            "id", "cluster", "trunk", "node_name", "eni_id", "vlan_id", "mac", "private_ip",
            "ipv6_address", "subnet_id", "subnet_cidr", "subnet_v6_cidr", "association_id",
            "security_group_ids", "pod_uid", "pod_namespace", "pod_name", "state",
            "cooling_since", "delete_attempts", "last_error", "released_at", "created", "updated",
        ]


class AttachmentSerializer(InventorySerializer):
    class Meta:
        model = Attachment
        fields = [
            "id", "cluster", "branch", "eni_id", "node_name", "pod_uid", "pod_namespace",
            "pod_name", "private_ip", "mac", "vlan_id", "security_group_ids", "since", "until",
        ]
