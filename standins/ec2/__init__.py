"""EC2 stand-in: moto's server with ENI trunking, AWS's throttling, latency and faults.

Start one in-process with :class:`EC2Standin` (``with EC2Standin() as ec2: ...``) or as its own
process with ``python -m standins.ec2 --port 0``. Talk to it with :func:`ec2_client` and
:class:`EC2StandinControl`; seed it with :mod:`standins.ec2.seeding`.
"""

from standins.ec2.control import EC2StandinControl, ec2_client
from standins.ec2.server import EC2Standin, use_safe_aws_environment

__all__ = ["EC2Standin", "EC2StandinControl", "ec2_client", "use_safe_aws_environment"]
