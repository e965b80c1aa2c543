"""Where moto's ENIs behave unlike EC2's, in ways the controller would notice; fixed here.

- ``DeleteNetworkInterface`` of an ENI attached to an instance is refused with
  ``InvalidNetworkInterface.InUse`` (moto deletes it).
- ``AttachNetworkInterface`` at a device index already in use on the instance is refused with
  ``InvalidParameterValue`` (moto silently replaces the ENI there); the trunk goes to the
  highest free index upstream, so this matters.
- ``ModifyNetworkInterfaceAttribute`` honours ``Attachment.DeleteOnTermination`` (moto ignores
  it), so a trunk goes with its instance as on EC2.
- ``DescribeNetworkInterfaces`` filters ``interface-type``, ``status``, ``mac-address``,
  ``owner-id``, ``attachment.status``, ``attachment.device-index`` (moto raises on them), and
  pages with ``MaxResults`` (5..1000, not with ``NetworkInterfaceIds``) and ``NextToken``
  (moto ignores both); the controller's resync and leak sweeps page.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.exceptions import EC2ClientError
from moto.ec2.models.elastic_network_interfaces import NetworkInterface
from moto.ec2.responses import EC2Response
from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces

from standins.ec2.errors import (
    InvalidParameterCombination,
    InvalidParameterValue,
    NetworkInterfaceInUse,
)

MAX_RESULTS_RANGE = (5, 1000)

_moto_describe = ElasticNetworkInterfaces.describe_network_interfaces
_moto_delete = ElasticNetworkInterfaces.delete_network_interface
_moto_attach = ElasticNetworkInterfaces.attach_network_interface
_moto_modify_attribute = ElasticNetworkInterfaces.modify_network_interface_attribute
_moto_filter_value = NetworkInterface.get_filter_value


def delete_network_interface(self: EC2Response) -> Any:
    eni_id = self._get_param("NetworkInterfaceId")
    eni = self.ec2_backend.enis.get(eni_id)
    if eni is not None and eni.instance is not None:
        raise NetworkInterfaceInUse(f"Network interface '{eni_id}' is currently in use.")
    return _moto_delete(self)


def attach_network_interface(self: EC2Response) -> Any:
    instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
    device_index = int(self._get_param("DeviceIndex"))
    if device_index in instance.nics:
        raise InvalidParameterValue(
            f"Instance '{instance.id}' already has an interface attached "
            f"at device index '{device_index}'."
        )
    return _moto_attach(self)


def modify_network_interface_attribute(self: EC2Response) -> Any:
    attachment = self._get_param("Attachment")
    if attachment and "DeleteOnTermination" in attachment:
        eni = self.ec2_backend.get_network_interface(self._get_param("NetworkInterfaceId"))
        if eni.attachment_id is None or eni.attachment_id != attachment.get("AttachmentId"):
            raise EC2ClientError(
                "InvalidAttachmentID.NotFound",
                f"The network interface attachment ID '{attachment.get('AttachmentId')}' "
                "does not exist",
            )
        eni.delete_on_termination = bool(attachment["DeleteOnTermination"])
    return _moto_modify_attribute(self)


_EXTRA_FILTERS = {
    "interface-type": lambda eni: eni.interface_type,
    "status": lambda eni: eni.status,
    "mac-address": lambda eni: eni.mac_address,
    "owner-id": lambda eni: eni.owner_id,
    "attachment.status": lambda eni: "attached" if eni.instance is not None else None,
    "attachment.device-index": lambda eni: (
        str(eni.device_index) if eni.instance is not None else None
    ),
}


def eni_filter_value(
    self: NetworkInterface, filter_name: str, method_name: str | None = None
) -> Any:
    if filter_name in _EXTRA_FILTERS:
        return _EXTRA_FILTERS[filter_name](self)
    return _moto_filter_value(self, filter_name, method_name)


def describe_network_interfaces(self: EC2Response) -> Any:
    max_results = self._get_param("MaxResults")
    next_token = self._get_param("NextToken")
    if max_results is None and not next_token:
        return _moto_describe(self)
    if self._get_param("NetworkInterfaceIds"):
        raise InvalidParameterCombination(
            "The parameter NetworkInterfaceIds cannot be used with MaxResults"
        )
    low, high = MAX_RESULTS_RANGE
    page_size = int(max_results) if max_results is not None else high
    if not low <= page_size <= high:
        raise InvalidParameterValue(f"MaxResults must be from {low} to {high}, not {page_size}")
    try:
        start = int(next_token or 0)
    except ValueError:
        raise EC2ClientError("InvalidNextToken", "The token is not valid") from None
    result = _moto_describe(self)
    enis = sorted(result.result["NetworkInterfaces"], key=lambda eni: eni.id)
    result.result["NetworkInterfaces"] = enis[start : start + page_size]
    if start + page_size < len(enis):
        result.result["NextToken"] = str(start + page_size)
    return result


def install() -> None:
    EC2Response.delete_network_interface = delete_network_interface
    EC2Response.attach_network_interface = attach_network_interface
    EC2Response.modify_network_interface_attribute = modify_network_interface_attribute
    EC2Response.describe_network_interfaces = describe_network_interfaces
    NetworkInterface.get_filter_value = eni_filter_value
