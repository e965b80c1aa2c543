"""Seeding the EC2 stand-in, and reading back which groups (and rules) an ENI carries."""

from standins.ec2.seeding import (
    Rule,
    allow_tcp,
    create_security_group,
    launch_instances,
    security_group_rules,
    security_groups_of_eni,
    seed_world,
)


def test_seed_world_makes_vpc_subnets_groups_and_instances(ec2_seeder):
    world = seed_world(
        ec2_seeder,
        instance_types=["m5.large", "c5.xlarge", "t3.medium"],
        security_groups={"db": [allow_tcp(5432, cidr="10.0.0.0/16")]},
    )
    assert len(world.subnet_ids) == 2
    assert set(world.security_group_ids) == {"db"}
    assert [i.instance_type for i in world.instances] == ["m5.large", "c5.xlarge", "t3.medium"]
    described = ec2_seeder.describe_instances(InstanceIds=[i.instance_id for i in world.instances])[
        "Reservations"
    ]
    assert sum(len(r["Instances"]) for r in described) == 3
    for instance in world.instances:
        assert instance.security_group_ids == (world.node_security_group_id,)
        eni = ec2_seeder.describe_network_interfaces(NetworkInterfaceIds=[instance.primary_eni_id])[
            "NetworkInterfaces"
        ][0]
        assert eni["Attachment"]["InstanceId"] == instance.instance_id
        assert eni["PrivateIpAddress"] == instance.private_ip


def test_seeding_is_not_counted(ec2, ec2_seeder):
    seed_world(ec2_seeder)
    assert ec2.control.counters()["calls"] == {}


def test_security_groups_of_eni_returns_groups_with_rules(ec2_seeder, ec2_client):
    world = seed_world(ec2_seeder)
    clients = create_security_group(ec2_seeder, world.vpc_id, "clients")
    db = create_security_group(
        ec2_seeder,
        world.vpc_id,
        "db",
        [
            allow_tcp(5432, source_group_id=clients),
            allow_tcp(8000, to_port=8080, cidr="10.0.0.0/8"),
        ],
    )
    branch = ec2_client.create_network_interface(
        SubnetId=world.subnet_ids[0], Groups=[db, clients]
    )["NetworkInterface"]
    groups = security_groups_of_eni(ec2_client, branch["NetworkInterfaceId"])
    assert [g.group_id for g in groups] == [db, clients]
    assert groups[0].group_name == "db"
    assert set(groups[0].ingress) == {
        Rule("tcp", 5432, 5432, source_group_ids=(clients,)),
        Rule("tcp", 8000, 8080, cidrs=("10.0.0.0/8",)),
    }
    assert groups[1].ingress == ()
    assert groups[0].egress == (Rule("-1", None, None, cidrs=("0.0.0.0/0",)),)


def test_security_group_rules_keeps_the_order_asked_for(ec2_seeder):
    world = seed_world(ec2_seeder, security_groups={"a": [], "b": []})
    ids = [world.security_group_ids["b"], world.security_group_ids["a"]]
    assert [g.group_name for g in security_group_rules(ec2_seeder, ids)] == ["b", "a"]


def test_launch_instances_with_groups(ec2_seeder):
    world = seed_world(ec2_seeder, instance_types=[])
    extra = launch_instances(
        ec2_seeder,
        world.subnet_ids[1],
        "m5.4xlarge",
        count=2,
        security_group_ids=[world.node_security_group_id],
    )
    assert len({i.instance_id for i in extra}) == 2
    assert all(i.subnet_id == world.subnet_ids[1] for i in extra)


def test_environment_points_a_plain_boto3_client_at_the_standin(ec2, monkeypatch):
    import boto3

    for name, value in ec2.environment().items():
        monkeypatch.setenv(name, value)
    plain = boto3.client("ec2")
    assert plain.meta.endpoint_url == ec2.endpoint_url
    plain.describe_vpcs()
    assert ec2.control.calls("DescribeVpcs") == 1
