"""Inventory tables: nodes (with their branch capacity bar), pods, security groups, branches."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html

from apps.core.generic.tables import BaseTable
from apps.policies.tables import group_badges

from .models import BranchENI, Node, Pod, SecurityGroup
from .usage import usage_of


class NodeTable(BaseTable):
    name = tables.Column(linkify=("inventory:node_detail", {"pk": tables.A("pk")}))
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    instance_type = tables.Column(verbose_name="Instance type")
    trunk = tables.Column(accessor="trunk__eni_id", verbose_name="Trunk ENI", default="—")
    usage = tables.Column(
        accessor="branch_capacity", verbose_name="Branch ENIs", orderable=True, empty_values=()
    )
    waiting = tables.Column(verbose_name="Pods waiting", accessor="waiting_count", empty_values=())
    managed = tables.BooleanColumn()

    class Meta(BaseTable.Meta):
        model = Node
        fields = ("name", "cluster", "instance_type", "trunk", "usage", "waiting", "managed")
        order_by = ("cluster", "name")
        row_attrs = {"class": lambda record: usage_of(record).css_class}

    def render_usage(self, record):
        return render_to_string("inventory/inc/capbar.html", {"usage": usage_of(record)})

    def render_waiting(self, record):
        count = record.waiting_count
        if not count:
            return "0"
        return format_html('<span class="badge badge-warn">{} waiting</span>', count)


class PodTable(BaseTable):
    name = tables.Column(linkify=("inventory:pod_detail", {"pk": tables.A("pk")}))
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    namespace = tables.Column()
    node_name = tables.Column(verbose_name="Node")
    phase = tables.Column()
    branch = tables.Column(
        accessor="branch_eni_id", verbose_name="Branch ENI", default="—", orderable=False
    )
    ip = tables.Column(accessor="branch_ip", verbose_name="IP", default="—", orderable=False)
    groups = tables.Column(
        accessor="branch_groups", verbose_name="Security groups", orderable=False, default="—"
    )

    class Meta(BaseTable.Meta):
        model = Pod
        fields = ("name", "cluster", "namespace", "node_name", "phase", "branch", "ip", "groups")
        order_by = ("cluster", "namespace", "name")

    def render_groups(self, value):
        return group_badges(value)


class SecurityGroupTable(BaseTable):
    group_id = tables.Column(
        linkify=("inventory:securitygroup_detail", {"pk": tables.A("pk")}), verbose_name="Group id"
    )
    name = tables.Column()
    cluster = tables.Column(accessor="cluster__name", verbose_name="Cluster")
    vpc_id = tables.Column(verbose_name="VPC")
    description = tables.Column()

    class Meta(BaseTable.Meta):
        model = SecurityGroup
        fields = ("group_id", "name", "cluster", "vpc_id", "description")
        order_by = ("cluster", "group_id")


class BranchTable(BaseTable):
    pod = tables.TemplateColumn(
        "{{ record.pod_namespace }}/{{ record.pod_name }}",
        verbose_name="Pod",
        order_by=("pod_namespace", "pod_name"),
    )
    vlan_id = tables.Column(verbose_name="VLAN")
    private_ip = tables.Column(verbose_name="IP")
    mac = tables.Column(verbose_name="MAC")
    eni_id = tables.Column(verbose_name="ENI")
    groups = tables.Column(accessor="security_group_ids", verbose_name="Groups", orderable=False)
    state = tables.Column()
    since = tables.DateTimeColumn(accessor="created", format="Y-m-d H:i:s", verbose_name="Since")

    class Meta(BaseTable.Meta):
        model = BranchENI
        fields = ("vlan_id", "pod", "private_ip", "mac", "eni_id", "groups", "state", "since")
        order_by = ("vlan_id",)

    def render_groups(self, value):
        return group_badges(value)

    def render_state(self, value, record):
        css = {"attached": "badge-ok", "cooling": "badge-warn", "leaked": "badge-danger"}.get(
            record.state, ""
        )
        return format_html('<span class="badge {}">{}</span>', css, value)
