"""Test-wide settings: the test mode and dummy AWS credentials, before anything imports."""

import os

os.environ.setdefault("SGPADMIN_MODE", "test")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")

# Hypothesis: no deadlines or speed health checks. The suite shares two cores with
# services and subprocess workers, so how long one example takes says nothing about the
# code; correctness is what the properties check.
from hypothesis import HealthCheck, settings

settings.register_profile(
    "sgpadmin", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("sgpadmin")
