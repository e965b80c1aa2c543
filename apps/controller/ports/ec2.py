"""The EC2 port: a thin boto3 adapter for trunk and branch ENIs (reference §3.3, §4.2, §4.9).

Every request waits for a token of its credential set's shared bucket (each SDK retry too;
the trunk association calls have a second bucket, as upstream's separate "instance" client),
goes through botocore's ``standard`` retry mode (``RequestLimitExceeded`` and 5xx are retried
with capped exponential backoff and jitter) and is counted in ``sgpadmin_ec2_calls_total``
by action and outcome (``ok`` or the EC2 error code), once per HTTP attempt.
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from prometheus_client import Counter

from apps.controller.core.constants import (
    BRANCH_DESCRIPTION,
    CLUSTER_TAG_PREFIX,
    OWNER_VALUE,
    TAG_INSTANCE_ID,
    TAG_OWNER,
    TAG_TRUNK_ENI_ID,
    TAG_VLAN_ID,
    TRUNK_DESCRIPTION,
)
from apps.controller.core.model import InstanceInterface

from .ratelimit import shared_bucket, wait_for_token

EC2_CALLS = Counter(
    "sgpadmin_ec2_calls_total", "EC2 API requests (each HTTP attempt), by action and outcome.",
    ["action", "outcome"],
)
# Upstream sends these through its "instance" client, with a bucket of its own (§4.9).
ASSOCIATION_ACTIONS = frozenset({
    "AssociateTrunkInterface", "DisassociateTrunkInterface", "DescribeTrunkInterfaceAssociations",
})
RETRYABLE_CODES = frozenset({
    "RequestLimitExceeded", "Throttling", "ThrottlingException", "InternalError",
    "InternalFailure", "ServiceUnavailable", "Unavailable", "RequestTimeout",
})


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "Unknown")
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx and connection trouble: retry later, never fail the pod for it."""
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error_code(exc) in RETRYABLE_CODES or status >= 500
    from botocore.exceptions import ConnectionError as BotoConnectionError
    from botocore.exceptions import ReadTimeoutError
    from botocore.parsers import ResponseParserError

    # ResponseParserError: a 5xx whose body is not EC2's XML (a proxy's or server's error page).
    return isinstance(exc, BotoConnectionError | ReadTimeoutError | ResponseParserError)


@dataclass(frozen=True)
class InstanceDescription:
    instance_id: str
    instance_type: str
    private_ip: str
    subnet_id: str
    vpc_id: str
    owner_id: str
    interfaces: tuple[InstanceInterface, ...]


@dataclass(frozen=True)
class CreatedENI:
    eni_id: str
    mac: str
    private_ip: str
    ipv6_address: str
    subnet_id: str


def _count_attempt(**kwargs: Any) -> None:
    operation = kwargs.get("operation")
    action = getattr(operation, "name", "unknown")
    if kwargs.get("caught_exception") is not None:
        outcome = type(kwargs["caught_exception"]).__name__
    else:
        response = kwargs.get("response") or (None, None)
        parsed: dict[str, Any] = response[1] or {}
        outcome = parsed.get("Error", {}).get("Code") or "ok"
    EC2_CALLS.labels(action, outcome).inc()


_clients: dict[tuple, Any] = {}
_clients_lock = threading.Lock()
# One botocore session per process: its loader caches the (large) EC2 service model, so a
# prefork worker that calls :func:`preload_service_model` before forking shares it.
_session = boto3.session.Session()


def preload_service_model(region: str = "us-west-2") -> None:
    """Load and cache what client creation needs, without any network call."""
    _session.client("ec2", region_name=region, endpoint_url="http://127.0.0.1:9",
                    aws_access_key_id="preload", aws_secret_access_key="preload")


def ec2_client(region: str, endpoint_url: str | None = None) -> Any:
    """One boto3 client per (region, endpoint) and process, wired to the bucket and counter."""
    key = (region, endpoint_url or "")
    with _clients_lock:
        if key in _clients:
            return _clients[key]
        config = Config(
            # total_max_attempts counts the first try (botocore's max_attempts would not).
            retries={"mode": "standard",
                     "total_max_attempts": int(os.environ.get("SGPADMIN_EC2_MAX_ATTEMPTS", "3"))},
            connect_timeout=10, read_timeout=30, max_pool_connections=50,
        )
        client = _session.client(
            "ec2", region_name=region, endpoint_url=endpoint_url or None, config=config)
        credentials = client._request_signer._credentials
        access_key = getattr(credentials, "access_key", "") if credentials else ""
        credential_key = hashlib.sha256(f"{access_key}|{region}".encode()).hexdigest()[:16]
        user_bucket = shared_bucket(credential_key)
        instance_bucket = shared_bucket(f"{credential_key}:instance")

        def take_token(event_name: str = "", **_: Any) -> None:
            # before-send, once per HTTP attempt; a non-None return would become the answer.
            action = event_name.rsplit(".", 1)[-1]
            wait_for_token(instance_bucket if action in ASSOCIATION_ACTIONS else user_bucket)

        client.meta.events.register("before-send.ec2", take_token)
        client.meta.events.register("needs-retry.ec2", _count_attempt)
        _clients[key] = client
        return client


def _tags(pairs: dict[str, str]) -> list[dict]:
    return [{"ResourceType": "network-interface",
             "Tags": [{"Key": k, "Value": v} for k, v in pairs.items()]}]


def owner_tags(instance_id: str, cluster_name: str) -> dict[str, str]:
    return {TAG_INSTANCE_ID: instance_id, TAG_OWNER: OWNER_VALUE,
            f"{CLUSTER_TAG_PREFIX}{cluster_name}": "owned"}


def _created(eni: dict) -> CreatedENI:
    ipv6 = eni.get("Ipv6Addresses") or [{}]
    return CreatedENI(eni["NetworkInterfaceId"], eni.get("MacAddress", ""),
                      eni.get("PrivateIpAddress", ""), ipv6[0].get("Ipv6Address", ""),
                      eni.get("SubnetId", ""))


class EC2Port:
    """The calls the controller makes, one method per EC2 action (or a paginated describe)."""

    def __init__(self, region: str, endpoint_url: str | None = None) -> None:
        self.client = ec2_client(region, endpoint_url)

    # -- instances and subnets ------------------------------------------------------------
    def describe_instance(self, instance_id: str) -> InstanceDescription:
        answer = self.client.describe_instances(InstanceIds=[instance_id])
        reservation = answer["Reservations"][0]
        instance = reservation["Instances"][0]
        interfaces = tuple(
            InstanceInterface(
                eni_id=ni["NetworkInterfaceId"],
                device_index=int(ni.get("Attachment", {}).get("DeviceIndex", 0)),
                interface_type=ni.get("InterfaceType"),
                attachment_status=ni.get("Attachment", {}).get("Status", ""),
                private_ip=ni.get("PrivateIpAddress", ""),
                security_group_ids=tuple(g["GroupId"] for g in ni.get("Groups", [])),
            )
            for ni in instance.get("NetworkInterfaces", [])
        )
        return InstanceDescription(
            instance_id, instance["InstanceType"], instance.get("PrivateIpAddress", ""),
            instance.get("SubnetId", ""), instance.get("VpcId", ""),
            reservation.get("OwnerId", ""), interfaces)

    def describe_subnet_cidrs(self, subnet_id: str) -> tuple[str, str]:
        """(IPv4 CIDR, IPv6 CIDR or "")."""
        subnet = self.client.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
        v6 = [a["Ipv6CidrBlock"] for a in subnet.get("Ipv6CidrBlockAssociationSet", [])
              if a.get("Ipv6CidrBlockState", {}).get("State") == "associated"]
        return subnet["CidrBlock"], (v6[0] if v6 else "")

    # -- ENIs -------------------------------------------------------------------------------
    def create_trunk(self, subnet_id: str, group_ids: list[str], instance_id: str,
                     cluster_name: str) -> CreatedENI:
        params: dict[str, Any] = dict(
            SubnetId=subnet_id, Description=TRUNK_DESCRIPTION, InterfaceType="trunk",
            TagSpecifications=_tags(owner_tags(instance_id, cluster_name)))
        if group_ids:
            params["Groups"] = list(group_ids)
        return _created(self.client.create_network_interface(**params)["NetworkInterface"])

    def create_branch(self, subnet_id: str, group_ids: list[str], instance_id: str,
                      cluster_name: str, trunk_eni_id: str, vlan_id: int) -> CreatedENI:
        tags = {TAG_VLAN_ID: str(vlan_id), TAG_TRUNK_ENI_ID: trunk_eni_id,
                **owner_tags(instance_id, cluster_name)}
        params: dict[str, Any] = dict(SubnetId=subnet_id, Description=BRANCH_DESCRIPTION,
                                      TagSpecifications=_tags(tags))
        if group_ids:
            params["Groups"] = list(group_ids)
        return _created(self.client.create_network_interface(**params)["NetworkInterface"])

    def grant_instance_attach(self, eni_id: str, account_id: str) -> None:
        self.client.create_network_interface_permission(
            NetworkInterfaceId=eni_id, Permission="INSTANCE-ATTACH", AwsAccountId=account_id)

    def has_instance_attach(self, eni_id: str) -> bool:
        answer = self.client.describe_network_interface_permissions(Filters=[
            {"Name": "network-interface-permission.network-interface-id", "Values": [eni_id]},
            {"Name": "network-interface-permission.permission", "Values": ["INSTANCE-ATTACH"]},
        ])
        return bool(answer.get("NetworkInterfacePermissions"))

    def attach(self, eni_id: str, instance_id: str, device_index: int) -> str:
        return self.client.attach_network_interface(
            NetworkInterfaceId=eni_id, InstanceId=instance_id, DeviceIndex=device_index,
        )["AttachmentId"]

    def set_delete_on_termination(self, eni_id: str, attachment_id: str) -> None:
        self.client.modify_network_interface_attribute(
            NetworkInterfaceId=eni_id,
            Attachment={"AttachmentId": attachment_id, "DeleteOnTermination": True})

    def attachment_status(self, eni_id: str) -> str:
        eni = self.client.describe_network_interfaces(
            NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
        return eni.get("Attachment", {}).get("Status", "")

    def detach(self, attachment_id: str) -> None:
        self.client.detach_network_interface(AttachmentId=attachment_id, Force=True)

    def delete_eni(self, eni_id: str) -> bool:
        """Delete; False when it was already gone (NotFound counts as done)."""
        try:
            self.client.delete_network_interface(NetworkInterfaceId=eni_id)
        except ClientError as exc:
            if error_code(exc) == "InvalidNetworkInterfaceID.NotFound":
                return False
            raise
        return True

    def find_branch(self, trunk_eni_id: str, vlan_id: int,
                    security_group_ids: list[str] | None = None) -> CreatedENI | None:
        """A branch created for (trunk, VLAN) by an earlier attempt, found by its tags.

        Only an unassociated ENI qualifies, and, with ``security_group_ids``, only one that
        carries exactly those groups: an older orphan on the same VLAN with another pod's
        groups must never be handed to this pod (the sweep deletes it)."""
        answer = self.client.describe_network_interfaces(Filters=[
            {"Name": f"tag:{TAG_TRUNK_ENI_ID}", "Values": [trunk_eni_id]},
            {"Name": f"tag:{TAG_VLAN_ID}", "Values": [str(vlan_id)]},
        ])
        wanted = sorted(security_group_ids) if security_group_ids is not None else None
        for eni in answer.get("NetworkInterfaces", []):
            groups = sorted(g["GroupId"] for g in eni.get("Groups", []))
            if wanted is not None and groups != wanted:
                continue
            if self.association_of(eni["NetworkInterfaceId"]):
                continue
            return _created(eni)
        return None

    # -- trunk associations -----------------------------------------------------------------
    def associate(self, branch_eni_id: str, trunk_eni_id: str, vlan_id: int) -> str:
        """Associate; the client token makes a repeated call return the same association."""
        answer = self.client.associate_trunk_interface(
            BranchInterfaceId=branch_eni_id, TrunkInterfaceId=trunk_eni_id, VlanId=vlan_id,
            ClientToken=f"{branch_eni_id}-{vlan_id}")
        association_id = answer.get("InterfaceAssociation", {}).get("AssociationId", "")
        if not association_id:
            raise RuntimeError("AssociateTrunkInterface returned no association id")
        return association_id

    def association_of(self, branch_eni_id: str) -> str:
        answer = self.client.describe_trunk_interface_associations(Filters=[
            {"Name": "trunk-interface-association.branch-interface-id",
             "Values": [branch_eni_id]}])
        found = answer.get("InterfaceAssociations", [])
        return found[0]["AssociationId"] if found else ""

    def disassociate(self, association_id: str) -> None:
        try:
            self.client.disassociate_trunk_interface(AssociationId=association_id)
        except ClientError as exc:
            if not error_code(exc).startswith("InvalidAssociationID"):
                raise

    # -- leak collection and resync (issue 4: apps.controller.gc / resync) -------------------
    def describe_enis(self, filters: list[dict], max_pages: int = 100) -> list[dict]:
        """Every ENI matching ``filters``, following ``NextToken`` (1000 per page)."""
        enis: list[dict] = []
        token = None
        for _ in range(max_pages):
            params: dict[str, Any] = {"Filters": filters, "MaxResults": 1000}
            if token:
                params["NextToken"] = token
            answer = self.client.describe_network_interfaces(**params)
            enis += answer.get("NetworkInterfaces", [])
            token = answer.get("NextToken")
            if not token:
                return enis
        raise RuntimeError(f"DescribeNetworkInterfaces: more than {max_pages} pages")

    def trunk_associations(self, filters: list[dict], max_pages: int = 100) -> list[dict]:
        """Every trunk association matching ``filters``, following ``NextToken``."""
        found: list[dict] = []
        token = None
        for _ in range(max_pages):
            params: dict[str, Any] = {"Filters": filters, "MaxResults": 255}
            if token:
                params["NextToken"] = token
            answer = self.client.describe_trunk_interface_associations(**params)
            found += answer.get("InterfaceAssociations", [])
            token = answer.get("NextToken")
            if not token:
                return found
        raise RuntimeError(f"DescribeTrunkInterfaceAssociations: more than {max_pages} pages")
