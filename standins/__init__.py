"""Local stand-ins for the outside world: EC2 (moto + trunking) and the Kubernetes API (kmock).

Used by the tests, the benchmarks and the demo; never by production code. See
:mod:`standins.ec2`, :mod:`standins.kubernetes` and :mod:`standins.pytest_fixtures`.
"""
