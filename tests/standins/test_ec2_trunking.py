"""ENI trunking on the EC2 stand-in: trunk ENIs, association checks and errors, describes."""

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from standins.ec2.seeding import create_subnet, create_vpc, seed_world

BRANCH_TAGS = [
    {
        "ResourceType": "network-interface",
        "Tags": [
            {"Key": "vpcresources.k8s.aws/vlan-id", "Value": "1"},
            {"Key": "eks:eni:owner", "Value": "eks-vpc-resource-controller"},
        ],
    }
]


@pytest.fixture
def world(ec2_seeder):
    return seed_world(ec2_seeder, instance_types=["m5.large"])


@pytest.fixture
def trunk_id(ec2_client, world):
    instance = world.instances[0]
    trunk = ec2_client.create_network_interface(
        SubnetId=instance.subnet_id,
        InterfaceType="trunk",
        Description="aws-k8s-trunk-eni",
    )["NetworkInterface"]
    ec2_client.attach_network_interface(
        NetworkInterfaceId=trunk["NetworkInterfaceId"],
        InstanceId=instance.instance_id,
        DeviceIndex=1,
    )
    return trunk["NetworkInterfaceId"]


def new_branch(ec2_client, world, subnet_id=None):
    return ec2_client.create_network_interface(
        SubnetId=subnet_id or world.instances[0].subnet_id,
        Description="aws-k8s-branch-eni",
        Groups=[world.node_security_group_id],
        TagSpecifications=BRANCH_TAGS,
    )["NetworkInterface"]["NetworkInterfaceId"]


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_trunk_eni_reports_interface_type_and_tags_from_the_create_call(ec2_client, world):
    created = ec2_client.create_network_interface(
        SubnetId=world.subnet_ids[0],
        InterfaceType="trunk",
        TagSpecifications=[
            {
                "ResourceType": "network-interface",
                "Tags": [{"Key": "node.k8s.amazonaws.com/instance_id", "Value": "i-1"}],
            }
        ],
    )["NetworkInterface"]
    assert created["InterfaceType"] == "trunk"
    assert {"Key": "node.k8s.amazonaws.com/instance_id", "Value": "i-1"} in created["TagSet"]
    described = ec2_client.describe_network_interfaces(
        NetworkInterfaceIds=[created["NetworkInterfaceId"]]
    )["NetworkInterfaces"][0]
    assert described["InterfaceType"] == "trunk"


def test_interface_type_filter_finds_only_trunks(ec2_client, world, trunk_id):
    new_branch(ec2_client, world)
    found = ec2_client.describe_network_interfaces(
        Filters=[{"Name": "interface-type", "Values": ["trunk"]}]
    )["NetworkInterfaces"]
    assert [eni["NetworkInterfaceId"] for eni in found] == [trunk_id]


def test_status_filter_separates_attached_from_available(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    available = ec2_client.describe_network_interfaces(
        Filters=[{"Name": "status", "Values": ["available"]}]
    )["NetworkInterfaces"]
    assert [eni["NetworkInterfaceId"] for eni in available] == [branch_id]


def test_describe_instances_lists_the_trunk_with_its_interface_type(ec2_client, world, trunk_id):
    instance = ec2_client.describe_instances(InstanceIds=[world.instances[0].instance_id])[
        "Reservations"
    ][0]["Instances"][0]
    types = {n["NetworkInterfaceId"]: n["InterfaceType"] for n in instance["NetworkInterfaces"]}
    assert types[trunk_id] == "trunk"
    assert types[world.instances[0].primary_eni_id] == "interface"


def test_unknown_interface_type_is_invalid_parameter_value(ec2_client, world):
    with pytest.raises(ClientError) as excinfo:
        ec2_client.create_network_interface(SubnetId=world.subnet_ids[0], InterfaceType="bogus")
    assert error_code(excinfo) == "InvalidParameterValue"


def test_trunking_can_be_switched_off_like_an_account_without_the_allow_list(ec2, world):
    ec2.control.configure(trunking_enabled=False)
    with pytest.raises(ClientError) as excinfo:
        ec2.client().create_network_interface(SubnetId=world.subnet_ids[0], InterfaceType="trunk")
    assert error_code(excinfo) == "InvalidParameterValue"
    assert "'trunk' for InterfaceType" in str(excinfo.value)


def test_associate_returns_the_association(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    association = ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=7
    )["InterfaceAssociation"]
    assert association["AssociationId"].startswith("trunk-assoc-")
    assert len(association["AssociationId"]) == len("trunk-assoc-") + 17
    assert association["BranchInterfaceId"] == branch_id
    assert association["TrunkInterfaceId"] == trunk_id
    assert association["InterfaceProtocol"] == "VLAN"
    assert association["VlanId"] == 7


def test_associate_with_the_same_client_token_is_idempotent(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    kwargs = dict(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=3, ClientToken="token-1"
    )
    first = ec2_client.associate_trunk_interface(**kwargs)["InterfaceAssociation"]
    again = ec2_client.associate_trunk_interface(**kwargs)["InterfaceAssociation"]
    assert again["AssociationId"] == first["AssociationId"]


@pytest.mark.parametrize("missing", ["branch", "trunk"])
def test_associate_with_an_unknown_eni_is_not_found(ec2_client, world, trunk_id, missing):
    branch_id = new_branch(ec2_client, world)
    ids = {"branch": branch_id, "trunk": trunk_id, missing: "eni-0000000000000000f"}
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=ids["branch"], TrunkInterfaceId=ids["trunk"], VlanId=1
        )
    assert error_code(excinfo) == "InvalidNetworkInterfaceID.NotFound"


def test_associate_to_an_eni_that_is_not_a_trunk_is_refused(ec2_client, world):
    branch_id = new_branch(ec2_client, world)
    not_a_trunk = new_branch(ec2_client, world)
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=branch_id, TrunkInterfaceId=not_a_trunk, VlanId=1
        )
    assert error_code(excinfo) == "InvalidParameterValue"


def test_associate_across_vpcs_is_refused(ec2_client, ec2_seeder, world, trunk_id):
    other_subnet = create_subnet(ec2_seeder, create_vpc(ec2_seeder, "10.1.0.0/16"), "10.1.0.0/24")
    branch_id = ec2_client.create_network_interface(SubnetId=other_subnet)["NetworkInterface"][
        "NetworkInterfaceId"
    ]
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=1
        )
    assert error_code(excinfo) == "InvalidParameterCombination"


@pytest.mark.parametrize("vlan_id", [0, 4095, -1])
def test_vlan_outside_1_to_4094_is_refused(ec2_client, world, trunk_id, vlan_id):
    branch_id = new_branch(ec2_client, world)
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=vlan_id
        )
    assert error_code(excinfo) == "InvalidParameterValue"


@pytest.mark.parametrize("vlan_id", [1, 4094])
def test_vlan_bounds_are_accepted(ec2_client, world, trunk_id, vlan_id):
    branch_id = new_branch(ec2_client, world)
    association = ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=vlan_id
    )
    assert association["InterfaceAssociation"]["VlanId"] == vlan_id


def test_vlan_already_used_on_the_trunk_is_refused(ec2_client, world, trunk_id):
    first, second = new_branch(ec2_client, world), new_branch(ec2_client, world)
    ec2_client.associate_trunk_interface(
        BranchInterfaceId=first, TrunkInterfaceId=trunk_id, VlanId=5
    )
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=second, TrunkInterfaceId=trunk_id, VlanId=5
        )
    assert error_code(excinfo) == "InvalidParameterValue"
    assert "VLAN id 5" in str(excinfo.value)


def test_branch_already_associated_is_refused(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=1
    )
    with pytest.raises(ClientError) as excinfo:
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=2
        )
    assert error_code(excinfo) == "InvalidNetworkInterface.InUse"


def test_disassociate_frees_the_vlan_and_the_branch(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    association_id = ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id,
        TrunkInterfaceId=trunk_id,
        VlanId=9,
    )["InterfaceAssociation"]["AssociationId"]
    assert ec2_client.disassociate_trunk_interface(AssociationId=association_id)["Return"]
    assert ec2_client.describe_trunk_interface_associations()["InterfaceAssociations"] == []
    again = ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=9
    )
    assert again["InterfaceAssociation"]["AssociationId"] != association_id


def test_disassociate_unknown_association_is_not_found(ec2_client):
    with pytest.raises(ClientError) as excinfo:
        ec2_client.disassociate_trunk_interface(AssociationId="trunk-assoc-00000000000000000")
    assert error_code(excinfo) == "InvalidAssociationID.NotFound"


def test_describe_associations_by_id_and_by_filters(ec2_client, world, trunk_id):
    branches = [new_branch(ec2_client, world) for _ in range(3)]
    ids = [
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=b,
            TrunkInterfaceId=trunk_id,
            VlanId=i + 1,
        )["InterfaceAssociation"]["AssociationId"]
        for i, b in enumerate(branches)
    ]

    by_id = ec2_client.describe_trunk_interface_associations(AssociationIds=[ids[1]])
    assert [a["BranchInterfaceId"] for a in by_id["InterfaceAssociations"]] == [branches[1]]
    by_trunk = ec2_client.describe_trunk_interface_associations(
        Filters=[{"Name": "trunk-interface-association.trunk-interface-id", "Values": [trunk_id]}]
    )
    assert len(by_trunk["InterfaceAssociations"]) == 3
    by_branch = ec2_client.describe_trunk_interface_associations(
        Filters=[
            {"Name": "trunk-interface-association.branch-interface-id", "Values": [branches[2]]}
        ]
    )
    assert [a["AssociationId"] for a in by_branch["InterfaceAssociations"]] == [ids[2]]


def test_describe_associations_paginates(ec2_client, world, trunk_id):
    for vlan_id in range(1, 13):
        ec2_client.associate_trunk_interface(
            BranchInterfaceId=new_branch(ec2_client, world),
            TrunkInterfaceId=trunk_id,
            VlanId=vlan_id,
        )
    first = ec2_client.describe_trunk_interface_associations(MaxResults=5)
    assert len(first["InterfaceAssociations"]) == 5 and "NextToken" in first
    pages = ec2_client.get_paginator("describe_trunk_interface_associations").paginate(
        PaginationConfig={"PageSize": 5}
    )
    seen = [a["VlanId"] for page in pages for a in page["InterfaceAssociations"]]
    assert sorted(seen) == list(range(1, 13))


def test_describe_associations_refuses_max_results_below_five(ec2):
    unvalidated = ec2.client(config=Config(parameter_validation=False))
    with pytest.raises(ClientError) as excinfo:
        unvalidated.describe_trunk_interface_associations(MaxResults=4)
    assert error_code(excinfo) == "InvalidParameterValue"


def test_deleting_an_associated_branch_drops_its_association(ec2_client, world, trunk_id):
    branch_id = new_branch(ec2_client, world)
    ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=4
    )
    ec2_client.delete_network_interface(NetworkInterfaceId=branch_id)
    assert ec2_client.describe_trunk_interface_associations()["InterfaceAssociations"] == []


def test_deleting_an_attached_eni_is_refused_as_in_use(ec2_client, trunk_id):
    with pytest.raises(ClientError) as excinfo:
        ec2_client.delete_network_interface(NetworkInterfaceId=trunk_id)
    assert error_code(excinfo) == "InvalidNetworkInterface.InUse"


def test_trunk_with_delete_on_termination_goes_with_its_instance(ec2_client, world, trunk_id):
    attachment = ec2_client.describe_network_interfaces(NetworkInterfaceIds=[trunk_id])[
        "NetworkInterfaces"
    ][0]["Attachment"]
    ec2_client.modify_network_interface_attribute(
        NetworkInterfaceId=trunk_id,
        Attachment={"AttachmentId": attachment["AttachmentId"], "DeleteOnTermination": True},
    )
    branch_id = new_branch(ec2_client, world)
    ec2_client.associate_trunk_interface(
        BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=1
    )
    ec2_client.terminate_instances(InstanceIds=[world.instances[0].instance_id])
    remaining = ec2_client.describe_network_interfaces(
        Filters=[{"Name": "interface-type", "Values": ["trunk"]}]
    )["NetworkInterfaces"]
    assert remaining == []
    assert ec2_client.describe_trunk_interface_associations()["InterfaceAssociations"] == []


def test_interface_permission_is_granted_and_listed(ec2_client, trunk_id):
    permission = ec2_client.create_network_interface_permission(
        NetworkInterfaceId=trunk_id,
        AwsAccountId="123456789012",
        Permission="INSTANCE-ATTACH",
    )["InterfacePermission"]
    assert permission["PermissionState"]["State"] == "granted"
    listed = ec2_client.describe_network_interface_permissions(
        Filters=[
            {"Name": "network-interface-permission.network-interface-id", "Values": [trunk_id]}
        ]
    )
    assert [p["NetworkInterfacePermissionId"] for p in listed["NetworkInterfacePermissions"]] == [
        permission["NetworkInterfacePermissionId"]
    ]


def test_interface_permission_on_an_unknown_eni_is_not_found(ec2_client):
    with pytest.raises(ClientError) as excinfo:
        ec2_client.create_network_interface_permission(
            NetworkInterfaceId="eni-0000000000000000f",
            AwsAccountId="123456789012",
            Permission="INSTANCE-ATTACH",
        )
    assert error_code(excinfo) == "InvalidNetworkInterfaceID.NotFound"


def test_describe_network_interfaces_paginates(ec2_client, world):
    created = {new_branch(ec2_client, world) for _ in range(11)}
    pages = ec2_client.get_paginator("describe_network_interfaces").paginate(
        Filters=[{"Name": "description", "Values": ["aws-k8s-branch-eni"]}],
        PaginationConfig={"PageSize": 5},
    )
    sizes, seen = [], set()
    for page in pages:
        sizes.append(len(page["NetworkInterfaces"]))
        seen |= {eni["NetworkInterfaceId"] for eni in page["NetworkInterfaces"]}
    assert sizes == [5, 5, 1]
    assert seen == created


def test_describe_network_interfaces_refuses_ids_with_max_results(ec2_client, world):
    with pytest.raises(ClientError) as excinfo:
        ec2_client.describe_network_interfaces(
            NetworkInterfaceIds=[world.instances[0].primary_eni_id], MaxResults=5
        )
    assert error_code(excinfo) == "InvalidParameterCombination"


def test_attaching_at_a_device_index_in_use_is_refused(ec2_client, world, trunk_id):
    another = new_branch(ec2_client, world)
    with pytest.raises(ClientError) as excinfo:
        ec2_client.attach_network_interface(
            NetworkInterfaceId=another, DeviceIndex=1, InstanceId=world.instances[0].instance_id
        )
    assert error_code(excinfo) == "InvalidParameterValue"


def test_concurrent_associations_never_share_a_vlan(ec2, world, trunk_id):
    from concurrent.futures import ThreadPoolExecutor

    ec2_client = ec2.client()
    branches = [new_branch(ec2_client, world) for _ in range(8)]

    def associate(branch_id):
        try:
            ec2.client().associate_trunk_interface(
                BranchInterfaceId=branch_id, TrunkInterfaceId=trunk_id, VlanId=42
            )
            return "ok"
        except ClientError as exc:
            return exc.response["Error"]["Code"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(associate, branches))
    assert outcomes.count("ok") == 1
    assert outcomes.count("InvalidParameterValue") == 7
