"""The address a request came from, seen through the reverse proxies we trust.

``REMOTE_ADDR`` is the peer of the web server. Behind an ingress or a load balancer that is
the proxy, and a token limited to its nodes' subnet would be refused (or, were the proxy in
that subnet, allowed for anyone). With ``SGPADMIN_TRUSTED_PROXIES`` set, a request whose peer
is a trusted proxy is taken to come from the right-most ``X-Forwarded-For`` hop that is not
itself a trusted proxy: hops to the left of it were written by the client and prove nothing.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _address(text: str | None):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _trusted(address, proxies) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(request) -> str | None:
    """The client's address (a string), or None when it cannot be told: no peer, or a
    forwarded hop that is not an address."""
    if request is None:
        return None
    peer = _address(request.META.get("REMOTE_ADDR"))
    proxies = settings.TRUSTED_PROXIES
    if peer is None or not _trusted(peer, proxies):
        return str(peer) if peer is not None else None
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        address = _address(hop)
        if not _trusted(address, proxies):
            break
    return str(address) if address is not None else None
