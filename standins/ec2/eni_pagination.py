"""Pagination of ``DescribeNetworkInterfaces``, which moto ignores.

The controller's resync and leak sweeps page through ENIs with ``MaxResults``/``NextToken``
(upstream counts ``ec2_describe_network_interfaces_pages``), and benchmarks count those calls,
so the stand-in pages as EC2 does: ``MaxResults`` 5..1000, not together with
``NetworkInterfaceIds``; the token is opaque to callers.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses import EC2Response
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces

MAX_RESULTS_RANGE = (5, 1000)
_moto_describe = ElasticNetworkInterfaces.describe_network_interfaces


def describe_network_interfaces(self: EC2Response) -> Any:
    max_results = self._get_param("MaxResults")
    next_token = self._get_param("NextToken")
    if max_results is None and not next_token:
        return _moto_describe(self)
    if self._get_param("NetworkInterfaceIds"):
        raise EC2ClientError("InvalidParameterCombination",
                             "The parameter NetworkInterfaceIds cannot be used with MaxResults")
    low, high = MAX_RESULTS_RANGE
    page_size = int(max_results) if max_results is not None else high
    if not low <= page_size <= high:
        raise EC2ClientError("InvalidParameterValue",
                             f"MaxResults must be from {low} to {high}, not {page_size}")
    try:
        start = int(next_token or 0)
    except ValueError:
        raise EC2ClientError("InvalidNextToken", "The token is not valid") from None
    result = _moto_describe(self)
    enis = sorted(result.result["NetworkInterfaces"], key=lambda eni: eni.id)
    result.result["NetworkInterfaces"] = enis[start:start + page_size]
    if start + page_size < len(enis):
        result.result["NextToken"] = str(start + page_size)
    return result


def install() -> None:
    EC2Response.describe_network_interfaces = describe_network_interfaces
