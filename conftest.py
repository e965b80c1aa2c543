"""Test-wide settings: the test mode and dummy AWS credentials, before anything imports."""

import os

os.environ.setdefault("SGPADMIN_MODE", "test")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
