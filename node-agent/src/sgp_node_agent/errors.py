"""CNI errors, with the error codes of the CNI specification 1.0.0 ("Error" section).

The spec's well-known codes are: 1 incompatible CNI version, 2 unsupported field in the network
configuration, 3 container unknown or gone, 4 invalid necessary environment variables, 5 I/O
failure, 6 failure to decode content, 7 invalid network configuration, 11 try again later.
Codes 100 and up are plugin-specific; we use 999 for "other".
"""

from __future__ import annotations

INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
UNKNOWN_CONTAINER = 3
INVALID_ENVIRONMENT = 4
IO_FAILURE = 5
DECODE_FAILURE = 6
INVALID_NETWORK_CONFIG = 7
TRY_AGAIN_LATER = 11
OTHER = 999


class CniError(Exception):
    """An error a CNI call reports to the runtime as ``{"code", "msg", "details"}``."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details

    def to_json(self, cni_version: str = "1.0.0") -> dict:
        body = {"cniVersion": cni_version, "code": self.code, "msg": self.msg}
        if self.details:
            body["details"] = self.details
        return body

    @classmethod
    def from_json(cls, body: dict) -> CniError:
        return cls(
            int(body.get("code", OTHER)), str(body.get("msg", "")), str(body.get("details", ""))
        )

    def __repr__(self) -> str:
        return f"CniError({self.code}, {self.msg!r}, {self.details!r})"


class AnnotationError(ValueError):
    """The pod's ``vpc.amazonaws.com/pod-eni`` annotation is unusable."""
