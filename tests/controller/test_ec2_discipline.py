"""EC2 discipline: client-side token buckets, standard retries, call counters (§4.9)."""

import time
import uuid

import pytest
from django.conf import settings

from apps.controller.ports import ec2 as ec2_module
from apps.controller.ports.ec2 import EC2_CALLS, EC2Port, is_retryable
from apps.controller.ports.ratelimit import LocalBucket, RedisBucket


def test_local_bucket_allows_the_burst_then_paces_at_the_rate():
    bucket = LocalBucket(qps=10, burst=3)
    waits = [bucket.reserve() for _ in range(5)]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1, abs=0.02)
    assert waits[4] == pytest.approx(0.2, abs=0.02)


@pytest.mark.redis
def test_redis_bucket_is_shared_between_holders():
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    key = f"test-{uuid.uuid4().hex}"
    one, two = (RedisBucket(settings.REDIS_URL, key, 10, 3) for _ in range(2))
    waits = [one.reserve(), two.reserve(), one.reserve(), two.reserve(), one.reserve()]
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert waits[3] == pytest.approx(0.1, abs=0.03)
    assert waits[4] == pytest.approx(0.2, abs=0.03)


def count(action, outcome):
    return EC2_CALLS.labels(action, outcome)._value.get()


@pytest.fixture
def port(ec2, monkeypatch):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "0")
    return EC2Port("us-west-2", ec2.endpoint_url)


def test_calls_are_counted_by_action_and_outcome(port, ec2):
    before_ok = count("DescribeSubnets", "ok")
    before_err = count("DescribeSubnets", "InvalidSubnetID.NotFound")
    vpc = ec2.seeder().create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.seeder().create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    assert port.describe_subnet_cidrs(subnet) == ("10.1.0.0/24", "")
    with pytest.raises(Exception, match="NotFound"):
        port.describe_subnet_cidrs("subnet-00000000000000000")
    assert count("DescribeSubnets", "ok") == before_ok + 1
    assert count("DescribeSubnets", "InvalidSubnetID.NotFound") == before_err + 1


def test_throttling_and_5xx_are_retried_inside_the_call(port, ec2):
    vpc = ec2.seeder().create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.seeder().create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/24")["Subnet"]["SubnetId"]
    throttled = count("DescribeSubnets", "RequestLimitExceeded")
    internal = count("DescribeSubnets", "InternalError")
    ec2.control.configure(faults=[
        {"actions": ["DescribeSubnets"], "count": 1, "code": "RequestLimitExceeded",
         "status": 503},
        {"actions": ["DescribeSubnets"], "count": 1, "code": "InternalError", "status": 500},
    ])
    assert port.describe_subnet_cidrs(subnet)[0] == "10.2.0.0/24"
    assert count("DescribeSubnets", "RequestLimitExceeded") == throttled + 1
    assert count("DescribeSubnets", "InternalError") == internal + 1


def test_retryable_classification():
    from botocore.exceptions import ClientError

    def error(code, status):
        return ClientError({"Error": {"Code": code},
                            "ResponseMetadata": {"HTTPStatusCode": status}}, "X")

    assert is_retryable(error("RequestLimitExceeded", 503))
    assert is_retryable(error("SomethingNew", 502))
    assert not is_retryable(error("InvalidParameterValue", 400))
    assert not is_retryable(ValueError("x"))
    from botocore.exceptions import EndpointConnectionError
    from botocore.parsers import ResponseParserError

    assert is_retryable(ResponseParserError("invalid XML received"))  # an HTML 500 page
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))


def test_client_paces_requests_with_its_bucket(ec2, monkeypatch):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "20")
    monkeypatch.setenv("SGPADMIN_EC2_BURST", "2")
    monkeypatch.setattr(settings, "REDIS_URL", "")
    monkeypatch.setattr(ec2_module, "_clients", {})  # a fresh client picks the settings up
    port = EC2Port("us-west-2", ec2.endpoint_url)
    started = time.monotonic()
    for _ in range(7):
        port.client.describe_vpcs()
    assert time.monotonic() - started >= (7 - 2) / 20 * 0.9


def test_association_calls_have_their_own_bucket(ec2, monkeypatch):
    monkeypatch.setenv("SGPADMIN_EC2_QPS", "2")
    monkeypatch.setenv("SGPADMIN_EC2_BURST", "2")
    monkeypatch.setattr(settings, "REDIS_URL", "")
    monkeypatch.setattr(ec2_module, "_clients", {})
    port = EC2Port("us-west-2", ec2.endpoint_url)
    port.client.describe_vpcs()
    port.client.describe_vpcs()  # the ENI bucket is now empty
    started = time.monotonic()
    port.client.describe_trunk_interface_associations()
    assert time.monotonic() - started < 0.3


def test_api_server_trouble_is_retryable_and_its_refusals_are_not():
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import ProtocolError, ReadTimeoutError

    from apps.controller.ports import cluster
    from apps.controller.tasks import is_retryable as task_retryable

    for status in (429, 500, 503):
        assert cluster.is_retryable(ApiException(status=status))
    for status in (400, 403, 404, 409, 422):
        assert not cluster.is_retryable(ApiException(status=status))
    assert cluster.is_retryable(ProtocolError("Connection aborted."))
    assert cluster.is_retryable(ReadTimeoutError(None, "/api", "read timed out"))
    assert cluster.is_retryable(ConnectionResetError())
    assert not cluster.is_retryable(ValueError("x"))
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "Throttling"},
                             "ResponseMetadata": {"HTTPStatusCode": 400}}, "X")
    assert task_retryable(ApiException(status=429)) and task_retryable(throttled)
    assert not task_retryable(ApiException(status=422))
