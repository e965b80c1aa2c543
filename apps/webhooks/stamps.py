"""Version stamps that every web process can read without a database query.

A stamp is an opaque string per key; writers *bump* it after a change commits, and
readers compare it with the stamp they loaded their cache under. Two stores:

- :class:`FileStamps`: one small file per key under a directory (``VAR_DIR`` by default),
  rewritten atomically with a fresh random token. Seen by every process on the host.
- :class:`RedisStamps`: one Redis counter per key, ``INCR`` to bump. Seen by every
  process that shares the Redis, on any host (several web replicas).

``read`` returns ``None`` when the store cannot be read; the cache then keeps what it
has until its maximum age.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)


class FileStamps:
    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.stamp"

    def read(self, key: str) -> str | None:
        try:
            return self._path(key).read_text()
        except FileNotFoundError:
            return ""
        except OSError as error:
            logger.warning("cannot read webhook stamp %s: %s", key, error)
            return None

    def bump(self, key: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(16))
            os.replace(temporary, self._path(key))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


class RedisStamps:
    prefix = "sgpadmin:webhook-stamp:"

    def __init__(self, url: str, timeout: float = 0.1):
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )

    def read(self, key: str) -> str | None:
        try:
            value = self.client.get(self.prefix + key)
        except Exception as error:  # any Redis or socket failure: keep the cache
            logger.warning("cannot read webhook stamp %s from Redis: %s", key, error)
            return None
        if value is None:
            return ""
        return value.decode() if isinstance(value, bytes) else str(value)

    def bump(self, key: str) -> None:
        self.client.incr(self.prefix + key)
