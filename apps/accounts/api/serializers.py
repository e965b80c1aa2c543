"""API tokens as their owner sees them; the secret appears once, in the create response."""

from __future__ import annotations

import ipaddress

from django.utils import timezone
from rest_framework import serializers

from apps.core.api.fields import ScopedSlugRelatedField, StrictCharField
from apps.core.api.serializers import StrictModelSerializer
from apps.inventory.models import Cluster

from ..models import APIToken
from ..scoping import user_can


class APITokenSerializer(StrictModelSerializer):
    allowed_cidrs = serializers.ListField(
        child=StrictCharField(max_length=49), required=False, max_length=100,
        help_text="Networks the token may be used from (empty: anywhere).",
    )
    cluster = ScopedSlugRelatedField(
        slug_field="name", queryset=Cluster.objects.all(), required=False, allow_null=True,
        help_text="Node tokens only: the node's cluster.",
    )

    class Meta:
        model = APIToken
        fields = [
            "id", "key_prefix", "description", "write_enabled", "enabled", "expires",
            "allowed_cidrs", "cluster", "node_name", "last_used", "created",
        ]
        read_only_fields = ["key_prefix", "enabled", "last_used", "created"]

    def validate_expires(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value

    def validate(self, attrs):
        node_name, cluster = attrs.get("node_name", ""), attrs.get("cluster")
        if node_name and cluster is None:
            raise serializers.ValidationError({"cluster": ["A node token needs its cluster."]})
        if cluster is not None and not node_name:
            raise serializers.ValidationError({"node_name": ["A cluster is set only for a node token."]})
        if node_name and not user_can(self.context["request"].user, "admin", cluster.name):
            raise serializers.ValidationError(
                {"node_name": [f"Only an admin of cluster {cluster.name} may issue node tokens."]}
            )
        token = APIToken(**{k: v for k, v in attrs.items()})
        token.clean()
        issuer = self.context["request"].auth
        if isinstance(issuer, APIToken):
            _no_broader_than(issuer, attrs)
        return attrs

    def create(self, validated_data):
        token, secret = APIToken.issue(self.context["request"].user, **validated_data)
        token.secret = secret
        return token


def _covered(network: str, by: list[str]) -> bool:
    wanted = ipaddress.ip_network(network, strict=False)
    return any(
        wanted.version == outer.version and wanted.subnet_of(outer)  # type: ignore[arg-type]
        for outer in (ipaddress.ip_network(cidr, strict=False) for cidr in by)
    )


def _no_broader_than(issuer: APIToken, attrs: dict) -> None:
    """A token that issues a token passes on its own limits: the new token may not outlive
    it, be used from networks it may not, or write when it may not. (Otherwise a token
    limited to a subnet or a week could mint an unlimited one.)"""
    errors: dict[str, list[str]] = {}
    if issuer.expires is not None and (attrs.get("expires") is None
                                       or attrs["expires"] > issuer.expires):
        errors["expires"] = [
            f"A token issued with a token expires no later than it ({issuer.expires.isoformat()})."
        ]
    if issuer.allowed_cidrs:
        wanted = attrs.get("allowed_cidrs") or []
        if not wanted or not all(_covered(cidr, issuer.allowed_cidrs) for cidr in wanted):
            errors["allowed_cidrs"] = [
                "A token issued with a token is limited to networks within its own: "
                + ", ".join(issuer.allowed_cidrs)
            ]
    if attrs.get("write_enabled") and not issuer.write_enabled:
        errors["write_enabled"] = ["A read-only token cannot issue a token that writes."]
    if errors:
        raise serializers.ValidationError(errors)


class IssuedAPITokenSerializer(APITokenSerializer):
    secret = serializers.SerializerMethodField(
        help_text="The token itself: send it as 'Authorization: Bearer <secret>'. Shown only now."
    )

    class Meta(APITokenSerializer.Meta):
        fields = [*APITokenSerializer.Meta.fields, "secret"]

    def get_secret(self, token) -> str:
        return getattr(token, "secret", "")


class RoleBindingSerializer(serializers.Serializer):
    role = serializers.CharField()
    cluster = serializers.CharField(allow_null=True, help_text="null: every cluster.")
    namespace = serializers.CharField(help_text="Empty: every namespace.")


class CurrentUserSerializer(serializers.Serializer):
    """Who the caller is and what their roles allow, so clients can show only what works."""

    username = serializers.CharField()
    is_superuser = serializers.BooleanField()
    roles = RoleBindingSerializer(many=True)
    token = APITokenSerializer(allow_null=True, help_text="The token used, if any.")
