"""ENI permissions for moto's EC2, which lacks them.

The upstream controller grants ``INSTANCE-ATTACH`` on every trunk and branch ENI it creates
(``CreateNetworkInterfacePermission``), so our EC2 port makes the same call. This module adds
``CreateNetworkInterfacePermission``, ``DescribeNetworkInterfacePermissions`` and
``DeleteNetworkInterfacePermission`` to moto's EC2 response class; ``install()`` is called by
:func:`standins.ec2.trunking.install`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.exceptions import EC2ClientError, MissingParameterError
from moto.ec2.responses import EC2Response
from moto.ec2.utils import random_resource_id

PERMISSIONS = ("INSTANCE-ATTACH", "EIP-ASSOCIATE")
_lock = threading.Lock()


@dataclass
class NetworkInterfacePermission:
    """One permission; field names follow EC2's ``NetworkInterfacePermission`` shape."""

    network_interface_permission_id: str
    network_interface_id: str
    permission: str
    aws_account_id: str | None = None
    aws_service: str | None = None
    permission_state: dict[str, str] = field(default_factory=lambda: {"State": "granted"})

    def matches(self, filters: dict[str, list[str]]) -> bool:
        values = {
            "network-interface-permission.network-interface-permission-id": (
                self.network_interface_permission_id
            ),
            "network-interface-permission.network-interface-id": self.network_interface_id,
            "network-interface-permission.aws-account-id": self.aws_account_id,
            "network-interface-permission.aws-service": self.aws_service,
            "network-interface-permission.permission": self.permission,
        }
        return all(values.get(name) in wanted for name, wanted in filters.items())


def permissions_of(backend: Any) -> dict[str, NetworkInterfacePermission]:
    with _lock:
        return backend.__dict__.setdefault("_standin_eni_permissions", {})


def create_network_interface_permission(self: EC2Response) -> ActionResult:
    eni_id = self._get_param("NetworkInterfaceId")
    permission = self._get_param("Permission")
    account = self._get_param("AwsAccountId")
    service = self._get_param("AwsService")
    if not eni_id:
        raise MissingParameterError("NetworkInterfaceId")
    if not permission:
        raise MissingParameterError("Permission")
    if permission not in PERMISSIONS:
        raise EC2ClientError(
            "InvalidParameterValue", f"Invalid value '{permission}' for Permission"
        )
    if not account and not service:
        raise MissingParameterError("AwsAccountId")
    self.error_on_dryrun()
    self.ec2_backend.get_network_interface(eni_id)  # NotFound for unknown ENIs
    perm = NetworkInterfacePermission(
        f"eni-perm-{random_resource_id(17)}", eni_id, permission, account, service
    )
    permissions_of(self.ec2_backend)[perm.network_interface_permission_id] = perm
    return ActionResult({"InterfacePermission": perm})


def describe_network_interface_permissions(self: EC2Response) -> ActionResult:
    ids = self._get_param("NetworkInterfacePermissionIds", [])
    filters = self._filters_from_querystring()
    perms = list(permissions_of(self.ec2_backend).values())
    if ids:
        perms = [p for p in perms if p.network_interface_permission_id in ids]
    perms = [p for p in perms if p.matches(filters)]
    return ActionResult({"NetworkInterfacePermissions": perms})


def delete_network_interface_permission(self: EC2Response) -> ActionResult:
    perm_id = self._get_param("NetworkInterfacePermissionId")
    if not perm_id:
        raise MissingParameterError("NetworkInterfacePermissionId")
    self.error_on_dryrun()
    if permissions_of(self.ec2_backend).pop(perm_id, None) is None:
        raise EC2ClientError(
            "InvalidPermissionID.NotFound", f"The permission ID '{perm_id}' does not exist"
        )
    return ActionResult({"Return": True})


def install() -> None:
    EC2Response.create_network_interface_permission = create_network_interface_permission
    EC2Response.describe_network_interface_permissions = describe_network_interface_permissions
    EC2Response.delete_network_interface_permission = delete_network_interface_permission
