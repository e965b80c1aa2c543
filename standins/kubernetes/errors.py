"""Errors in the API server's own format (a ``Status`` object; kmock renders it)."""

import kmock


def api_error(status: int, reason: str, message: str) -> kmock.KubernetesError:
    """An error the official client raises as ``ApiException`` with this status."""
    return kmock.KubernetesError(status, reason, message, {})
