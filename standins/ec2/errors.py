"""EC2 error codes the stand-in's extensions answer with (moto serialises them as EC2 does)."""

from moto.ec2.exceptions import EC2ClientError


class InvalidParameterValue(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValue", message)


class InvalidParameterCombination(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterCombination", message)


class NetworkInterfaceInUse(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidNetworkInterface.InUse", message)
