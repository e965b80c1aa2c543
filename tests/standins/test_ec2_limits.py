"""Throttling, latency, injected faults and counters of the EC2 stand-in, over its HTTP
control surface (what other processes use)."""

import time
import urllib.error

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from standins.ec2.limits import AWS_THROTTLE, TokenBucket, bucket_parameters

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def client(ec2):
    return ec2.client(config=NO_RETRIES)


def call_outcome(call):
    try:
        call()
        return "ok"
    except ClientError as exc:
        return exc.response["Error"]["Code"]


def test_bucket_starts_full_then_refuses_then_refills():
    bucket = TokenBucket(burst=3, refill_per_second=2)
    assert [bucket.take(now=10.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(now=10.4) is False  # 0.8 of a token
    assert bucket.take(now=10.5) is True  # 1.0
    assert bucket.take(now=100.0) and bucket.take(now=100.0) and bucket.take(now=100.0)
    assert bucket.take(now=100.0) is False  # never more than the burst


@pytest.mark.parametrize(
    ("action", "burst", "refill"),
    [
        ("CreateNetworkInterface", 100, 5),
        ("DeleteNetworkInterface", 100, 5),
        ("AssociateTrunkInterface", 50, 5),
        ("CreateNetworkInterfacePermission", 50, 5),
        ("DescribeNetworkInterfaces", 100, 20),
    ],
)
def test_aws_buckets_follow_the_ec2_throttling_table(action, burst, refill):
    params = bucket_parameters(AWS_THROTTLE, action)
    assert (params["burst"], params["refill_per_second"]) == (burst, refill)


def test_empty_bucket_answers_503_request_limit_exceeded(ec2, client):
    ec2.control.configure(throttle={"describe": {"burst": 3, "refill_per_second": 0}})
    outcomes = [call_outcome(client.describe_vpcs) for _ in range(5)]
    assert outcomes == ["ok", "ok", "ok", "RequestLimitExceeded", "RequestLimitExceeded"]
    with pytest.raises(ClientError) as excinfo:
        client.describe_vpcs()
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_buckets_are_per_action(ec2, client):
    ec2.control.configure(throttle={"describe": {"burst": 1, "refill_per_second": 0}})
    assert call_outcome(client.describe_vpcs) == "ok"
    assert call_outcome(client.describe_vpcs) == "RequestLimitExceeded"
    assert call_outcome(client.describe_subnets) == "ok"


def test_bucket_refills_over_time(ec2, client):
    ec2.control.configure(throttle={"describe": {"burst": 1, "refill_per_second": 10}})
    assert call_outcome(client.describe_vpcs) == "ok"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if call_outcome(client.describe_vpcs) == "ok":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the bucket never refilled")


def test_aws_preset_lets_the_mutating_burst_of_50_through_then_throttles(ec2, client, ec2_seeder):
    vpc_id = ec2_seeder.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.control.configure(throttle="aws")
    outcomes = []
    for index in range(150):  # the bucket refills 5/s meanwhile: bounded, not exact
        outcomes.append(
            call_outcome(
                lambda i=index: client.create_security_group(
                    GroupName=f"g{i}", Description="d", VpcId=vpc_id
                )
            )
        )
        if outcomes[-1] != "ok":
            break
    assert outcomes[:50] == ["ok"] * 50
    assert outcomes[-1] == "RequestLimitExceeded"


def test_latency_is_added_to_each_call(ec2, client):
    ec2.control.configure(latency_ms_by_action={"DescribeVpcs": 200})
    started = time.monotonic()
    client.describe_vpcs()
    assert time.monotonic() - started >= 0.2


def test_fault_rate_is_roughly_honoured(ec2, client):
    ec2.control.configure(seed=7, faults=[{"actions": ["DescribeVpcs"], "rate": 0.5}])
    outcomes = [call_outcome(client.describe_vpcs) for _ in range(200)]
    assert 60 <= outcomes.count("InternalError") <= 140
    assert outcomes.count("ok") + outcomes.count("InternalError") == 200
    assert call_outcome(client.describe_subnets) == "ok"  # other actions are untouched


def test_fault_count_fails_exactly_the_next_calls(ec2, client):
    ec2.control.configure(
        faults=[{"actions": ["DescribeVpcs"], "count": 2, "code": "RequestLimitExceeded"}]
    )
    outcomes = [call_outcome(client.describe_vpcs) for _ in range(4)]
    assert outcomes == ["RequestLimitExceeded", "RequestLimitExceeded", "ok", "ok"]


def test_fault_after_the_call_loses_the_answer_but_not_the_effect(ec2, client, ec2_seeder):
    vpc_id = ec2_seeder.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2_seeder.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24")["Subnet"][
        "SubnetId"
    ]
    ec2.control.configure(
        faults=[
            {
                "actions": ["CreateNetworkInterface"],
                "count": 1,
                "when": "after",
                "code": "InternalError",
                "status": 500,
            }
        ]
    )
    assert call_outcome(lambda: client.create_network_interface(SubnetId=subnet_id)) == (
        "InternalError"
    )
    assert len(ec2_seeder.describe_network_interfaces()["NetworkInterfaces"]) == 1


def test_counters_count_calls_by_action_and_outcome(ec2, client):
    ec2.control.configure(faults=[{"actions": ["DescribeSubnets"], "count": 1}])
    client.describe_vpcs()
    client.describe_vpcs()
    call_outcome(client.describe_subnets)
    call_outcome(
        lambda: client.delete_network_interface(NetworkInterfaceId="eni-0123456789abcdef0")
    )
    counters = ec2.control.counters()
    assert counters["calls"]["DescribeVpcs"] == {"ok": 2}
    assert counters["calls"]["DescribeSubnets"] == {"InternalError": 1}
    assert counters["calls"]["DeleteNetworkInterface"] == {"InvalidNetworkInterfaceID.NotFound": 1}
    assert counters["injected"] == {"DescribeSubnets": {"InternalError": 1}}
    assert ec2.control.calls("DescribeVpcs") == 2


def test_seeding_client_bypasses_limits_and_counters(ec2, ec2_seeder):
    ec2.control.configure(
        throttle={"describe": {"burst": 0, "refill_per_second": 0}},
        faults=[{"actions": ["*"], "rate": 1.0}],
    )
    for _ in range(3):
        ec2_seeder.describe_vpcs()
    assert ec2.control.counters()["calls"] == {}


def test_counters_reset(ec2, client):
    client.describe_vpcs()
    ec2.control.reset_counters()
    assert ec2.control.counters() == {"calls": {}, "injected": {}}


def test_reset_forgets_ec2_state(ec2, ec2_seeder):
    ec2_seeder.create_vpc(CidrBlock="10.9.0.0/16")
    ec2.control.reset()
    cidrs = [v["CidrBlock"] for v in ec2_seeder.describe_vpcs()["Vpcs"]]
    assert "10.9.0.0/16" not in cidrs


def test_unknown_configuration_key_is_a_400(ec2):
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        ec2.control.configure(thrtotle="aws")
    assert excinfo.value.code == 400


def test_configuration_round_trips_over_http(ec2):
    ec2.control.configure(latency_ms=5, throttle="aws")
    config = ec2.control.config()
    assert config["latency_ms"] == 5
    assert config["throttle"]["mutating"] == {"burst": 50, "refill_per_second": 5}


@pytest.mark.parametrize(
    "changes",
    [
        {"latency_ms": "slow"},
        {"throttle": "gcp"},
        {"throttle": {"mutating": {"burst": 1}}},
        {"faults": [{"actions": ["*"], "when": "during"}]},
        {"faults": {"actions": ["*"]}},
    ],
)
def test_malformed_configuration_is_a_400(ec2, changes):
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        ec2.control.configure(**changes)
    assert excinfo.value.code == 400
