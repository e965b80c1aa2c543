"""Seeding the EC2 stand-in with a small world, and reading back what a test needs to check.

All helpers take a boto3 EC2 client; give them one made with ``bypass_limits=True`` (as
``EC2Standin.seeder()`` does) so that seeding is neither throttled nor counted.

The check an end-to-end test needs, "which security groups are on ENI x and what do they allow",
is :func:`security_groups_of_eni`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_IMAGE_ID = "ami-0123456789abcdef0"  # moto accepts any image id
DEFAULT_ZONE = "us-west-2a"


@dataclass(frozen=True)
class SeededInstance:
    instance_id: str
    instance_type: str
    subnet_id: str
    primary_eni_id: str
    private_ip: str
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class SeededWorld:
    """What :func:`seed_world` made: one VPC, its subnets, groups and instances."""

    vpc_id: str
    subnet_ids: tuple[str, ...]
    node_security_group_id: str
    security_group_ids: dict[str, str] = field(default_factory=dict)  # name -> id
    instances: tuple[SeededInstance, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One permission of a security group, normalised for comparison in tests."""

    protocol: str  # "tcp", "udp", "icmp" or "-1" (all)
    from_port: int | None
    to_port: int | None
    cidrs: tuple[str, ...] = ()
    source_group_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityGroupRules:
    group_id: str
    group_name: str
    vpc_id: str
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]


def allow_tcp(
    port: int,
    *,
    cidr: str | None = None,
    source_group_id: str | None = None,
    to_port: int | None = None,
) -> dict[str, Any]:
    """An ``IpPermissions`` entry allowing TCP ``port``..``to_port`` from a CIDR or a group."""
    permission: dict[str, Any] = {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port if to_port is None else to_port,
    }
    if cidr:
        permission["IpRanges"] = [{"CidrIp": cidr}]
    if source_group_id:
        permission["UserIdGroupPairs"] = [{"GroupId": source_group_id}]
    return permission


def create_vpc(ec2: Any, cidr: str = "10.0.0.0/16") -> str:
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def create_subnet(ec2: Any, vpc_id: str, cidr: str, availability_zone: str = DEFAULT_ZONE) -> str:
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=availability_zone)[
        "Subnet"
    ]["SubnetId"]


def create_security_group(
    ec2: Any, vpc_id: str, name: str, ingress: Iterable[dict[str, Any]] = (), description: str = ""
) -> str:
    """A group with the given ``IpPermissions`` ingress (see :func:`allow_tcp`)."""
    group_id = ec2.create_security_group(
        VpcId=vpc_id, GroupName=name, Description=description or f"{name} (seeded)"
    )["GroupId"]
    permissions = list(ingress)
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
    return group_id


def launch_instances(
    ec2: Any,
    subnet_id: str,
    instance_type: str,
    count: int = 1,
    security_group_ids: Sequence[str] = (),
    image_id: str = DEFAULT_IMAGE_ID,
) -> list[SeededInstance]:
    """Run ``count`` instances; each has its primary ENI at device index 0."""
    kwargs: dict[str, Any] = {}
    if security_group_ids:
        kwargs["SecurityGroupIds"] = list(security_group_ids)
    reservation = ec2.run_instances(
        ImageId=image_id,
        MinCount=count,
        MaxCount=count,
        InstanceType=instance_type,
        SubnetId=subnet_id,
        **kwargs,
    )
    seeded = []
    for instance in reservation["Instances"]:
        primary = next(
            n for n in instance["NetworkInterfaces"] if n["Attachment"]["DeviceIndex"] == 0
        )
        seeded.append(
            SeededInstance(
                instance_id=instance["InstanceId"],
                instance_type=instance["InstanceType"],
                subnet_id=subnet_id,
                primary_eni_id=primary["NetworkInterfaceId"],
                private_ip=instance["PrivateIpAddress"],
                security_group_ids=tuple(g["GroupId"] for g in instance.get("SecurityGroups", [])),
            )
        )
    return seeded


def seed_world(
    ec2: Any,
    *,
    instance_types: Sequence[str] = ("m5.large",),
    vpc_cidr: str = "10.0.0.0/16",
    subnet_cidrs: Sequence[str] = ("10.0.0.0/20", "10.0.16.0/20"),
    security_groups: dict[str, Iterable[dict[str, Any]]] | None = None,
) -> SeededWorld:
    """A VPC, subnets, a node group, the named pod groups with their ingress, and one
    instance per entry of ``instance_types`` (spread over the subnets, node group attached)."""
    vpc_id = create_vpc(ec2, vpc_cidr)
    subnet_ids = tuple(create_subnet(ec2, vpc_id, cidr) for cidr in subnet_cidrs)
    node_group_id = create_security_group(
        ec2, vpc_id, "nodes", [allow_tcp(0, to_port=65535, cidr=vpc_cidr)]
    )
    groups = {
        name: create_security_group(ec2, vpc_id, name, ingress)
        for name, ingress in (security_groups or {}).items()
    }
    instances: list[SeededInstance] = []
    for index, instance_type in enumerate(instance_types):
        subnet_id = subnet_ids[index % len(subnet_ids)]
        instances += launch_instances(ec2, subnet_id, instance_type, 1, [node_group_id])
    return SeededWorld(vpc_id, subnet_ids, node_group_id, groups, tuple(instances))


def _rules(permissions: Iterable[dict[str, Any]]) -> tuple[Rule, ...]:
    return tuple(
        Rule(
            protocol=str(p["IpProtocol"]),
            from_port=p.get("FromPort"),
            to_port=p.get("ToPort"),
            cidrs=tuple(sorted(r["CidrIp"] for r in p.get("IpRanges", []))),
            source_group_ids=tuple(sorted(g["GroupId"] for g in p.get("UserIdGroupPairs", []))),
        )
        for p in permissions
    )


def security_group_rules(ec2: Any, group_ids: Sequence[str]) -> list[SecurityGroupRules]:
    """The given groups with their ingress and egress rules, in the order asked for."""
    if not group_ids:
        return []
    found = {
        g["GroupId"]: g
        for g in ec2.describe_security_groups(GroupIds=list(group_ids))["SecurityGroups"]
    }
    return [
        SecurityGroupRules(
            group_id=gid,
            group_name=found[gid]["GroupName"],
            vpc_id=found[gid].get("VpcId", ""),
            ingress=_rules(found[gid].get("IpPermissions", [])),
            egress=_rules(found[gid].get("IpPermissionsEgress", [])),
        )
        for gid in group_ids
    ]


def security_groups_of_eni(ec2: Any, eni_id: str) -> list[SecurityGroupRules]:
    """Which security groups ENI ``eni_id`` carries, with their rules."""
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    return security_group_rules(ec2, [g["GroupId"] for g in eni.get("Groups", [])])
