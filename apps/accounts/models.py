"""Users, their roles (optionally scoped to clusters and namespaces) and API tokens."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from apps.core.models import ChangeLoggedModel

TOKEN_PREFIX_LENGTH = 8


class Role(models.TextChoices):
    """What a role may do. Each role includes the ones above it in this list."""

    VIEWER = "viewer", "Viewer"  # read everything in scope
    EDITOR = "editor", "Editor"  # create, change and delete policies in scope
    APPROVER = "approver", "Approver"  # editor, plus approve others' changes
    ADMIN = "admin", "Admin"  # everything, including clusters and users


ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"view"}),
    "editor": frozenset({"view", "add", "change", "delete"}),
    "approver": frozenset({"view", "add", "change", "delete", "approve"}),
    "admin": frozenset({"view", "add", "change", "delete", "approve", "admin"}),
}
assert set(ROLE_ACTIONS) == set(Role.values), "every role needs its actions"


class User(AbstractUser):
    """The platform's user; roles come from RoleBindings (superusers are admins everywhere)."""

    class Meta:
        ordering = ("username",)


class RoleBinding(ChangeLoggedModel):
    """Grants ``role`` to ``user`` on one cluster (or all) and one namespace (or all).

    Change-logged: who was given which role, where, is an auditor's first question.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_bindings")
    role = models.CharField(max_length=10, choices=Role.choices)
    cluster = models.ForeignKey(
        "inventory.Cluster", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Empty: every cluster.",
    )
    namespace = models.CharField(max_length=63, blank=True, help_text="Empty: every namespace.")

    class Meta:
        ordering = ("user", "role")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "cluster", "namespace"], name="rolebinding_unique"
            )
        ]

    def __str__(self) -> str:
        where = f"{self.cluster or '*'}/{self.namespace or '*'}"
        return f"{self.user} {self.role} on {where}"

    def clean(self) -> None:
        if self.namespace and self.cluster_id is None:
            raise ValidationError({"namespace": "A namespace scope needs a cluster."})


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class APIToken(ChangeLoggedModel):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once, at creation.

    A token may be bound to one node (``node_name`` + ``cluster``): such a token can only
    post that node's agent report and nothing else. Issuing and revoking are change-logged
    (without the hash; ``last_used`` is written with ``update()`` and so not logged).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_prefix = models.CharField(max_length=TOKEN_PREFIX_LENGTH, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    description = models.CharField(max_length=200, blank=True)
    write_enabled = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    expires = models.DateTimeField(null=True, blank=True)
    allowed_cidrs = models.JSONField(default=list, blank=True)
    last_used = models.DateTimeField(null=True, blank=True)
    cluster = models.ForeignKey(
        "inventory.Cluster", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    node_name = models.CharField(max_length=253, blank=True)

    audit_exclude_fields = ("created", "updated", "key_hash", "last_used")

    class Meta:
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @classmethod
    def issue(cls, user, **fields) -> tuple[APIToken, str]:
        """Create a token; returns it with the secret, which is never stored."""
        secret = secrets.token_hex(20)
        token = cls(user=user, key_prefix=secret[:TOKEN_PREFIX_LENGTH], key_hash=hash_token(secret), **fields)
        token.full_clean()
        token.save()
        return token, secret

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def is_node_token(self) -> bool:
        return bool(self.node_name)

    def allows_address(self, address: str | None) -> bool:
        if not self.allowed_cidrs:
            return True
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in self.allowed_cidrs)

    def clean(self) -> None:
        errors = {}
        for cidr in self.allowed_cidrs or []:
            try:
                ipaddress.ip_network(str(cidr), strict=False)
            except ValueError:
                errors["allowed_cidrs"] = f"{cidr!r} is not a CIDR"
        if self.node_name and self.cluster_id is None:
            errors["cluster"] = "A node token needs its cluster."
        if errors:
            raise ValidationError(errors)
