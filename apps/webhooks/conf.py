"""The webhooks' settings: a Django setting when defined, else the environment, else a default.

| Setting (and environment variable)        | Default                          |
|-------------------------------------------|----------------------------------|
| ``SGPADMIN_WEBHOOK_DEFAULT_CLUSTER``      | the only cluster                 |
| ``SGPADMIN_CONTROLLER_IDENTITIES``        | upstream's three and ours        |
| ``SGPADMIN_WEBHOOK_WINDOWS_IPAM``         | false                            |
| ``SGPADMIN_WEBHOOK_STAMP``                | ``auto``: redis with REDIS_URL, else file |
| ``SGPADMIN_WEBHOOK_STAMP_DIR``            | ``<VAR_DIR>/webhook-stamps``     |
| ``SGPADMIN_WEBHOOK_STAMP_CHECK_SECONDS``  | 0.25                             |
| ``SGPADMIN_WEBHOOK_CACHE_MAX_AGE_SECONDS``| 60                               |

Lists in the environment are comma-separated.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings

from sgpadmin.env import ConfigurationError

from .validation import DEFAULT_CONTROLLER_IDENTITIES


def _raw(name: str) -> Any:
    value = getattr(settings, name, None)
    if value is not None:
        return value
    value = os.environ.get(name, "")
    return value if value != "" else None


def default_cluster() -> str:
    return str(_raw("SGPADMIN_WEBHOOK_DEFAULT_CLUSTER") or "")


def controller_identities() -> frozenset[str]:
    value = _raw("SGPADMIN_CONTROLLER_IDENTITIES")
    if value is None:
        return frozenset(DEFAULT_CONTROLLER_IDENTITIES)
    if isinstance(value, str):
        value = [item.strip() for item in value.split(",")]
    return frozenset(item for item in value if item)


def windows_ipam() -> bool:
    value = _raw("SGPADMIN_WEBHOOK_WINDOWS_IPAM")
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
            raise ConfigurationError(f"SGPADMIN_WEBHOOK_WINDOWS_IPAM={value!r} is not a boolean")
        return lowered in {"1", "true", "yes", "on"}
    return bool(value)


def stamp_backend() -> str:
    value = str(_raw("SGPADMIN_WEBHOOK_STAMP") or "auto")
    if value == "auto":
        return "redis" if getattr(settings, "REDIS_URL", None) else "file"
    if value not in {"redis", "file"}:
        raise ConfigurationError(f"SGPADMIN_WEBHOOK_STAMP={value!r}: use auto, redis or file")
    return value


def stamp_dir() -> Path:
    value = _raw("SGPADMIN_WEBHOOK_STAMP_DIR")
    return Path(value) if value else Path(settings.VAR_DIR) / "webhook-stamps"


def _seconds(name: str, default: float) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name}={value!r} is not a number of seconds") from None


def stamp_check_seconds() -> float:
    return _seconds("SGPADMIN_WEBHOOK_STAMP_CHECK_SECONDS", 0.25)


def cache_max_age_seconds() -> float:
    return _seconds("SGPADMIN_WEBHOOK_CACHE_MAX_AGE_SECONDS", 60.0)


def max_body_bytes() -> int:
    return int(getattr(settings, "SGPADMIN_MAX_BODY_BYTES", 1024 * 1024))
