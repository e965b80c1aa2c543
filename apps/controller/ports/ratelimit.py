"""One client-side token bucket per credential set, shared by every process of a host.

EC2's own buckets are account-wide (reference §8.2); upstream keeps a client-side bucket of
12 requests/s with a burst of 18 per client so one controller cannot drain them. Ours is:

- Redis-backed when ``REDIS_URL`` is set: one bucket per credential set for all worker
  processes that use the same Redis (a Lua script takes a token atomically, using Redis's
  clock), so N workers together stay within the rate;
- in-process otherwise (the demo, unit tests): shared by the threads of one process.

Like upstream's two clients ("user" for ENI calls, "instance" for trunk associations), a
credential set has two buckets of this size; see :mod:`apps.controller.ports.ec2`.

A caller *reserves* a token and sleeps until it is due, so waiting is fair and never spins.
Settings: ``SGPADMIN_EC2_QPS`` (default 12; 0 disables) and ``SGPADMIN_EC2_BURST`` (18).
"""

from __future__ import annotations

import functools
import os
import threading
import time

from django.conf import settings

DEFAULT_QPS = 12.0
DEFAULT_BURST = 18.0

_RESERVE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate end
tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
return tostring(wait)
"""


class LocalBucket:
    """The same reservation arithmetic, for the threads of one process."""

    def __init__(self, qps: float, burst: float) -> None:
        self.qps, self.burst = qps, burst
        self.tokens, self.updated = burst, time.monotonic()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.qps)
            self.updated = now
            wait = 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.qps
            self.tokens -= 1
            return wait


class RedisBucket:
    def __init__(self, redis_url: str, key: str, qps: float, burst: float) -> None:
        import redis

        self.client = redis.Redis.from_url(redis_url)
        self.script = self.client.register_script(_RESERVE_SCRIPT)
        self.key, self.qps, self.burst = f"sgpadmin:ec2-bucket:{key}", qps, burst

    def reserve(self) -> float:
        return float(self.script(keys=[self.key], args=[self.qps, self.burst]))


class Unlimited:
    def reserve(self) -> float:
        return 0.0


def bucket_settings() -> tuple[float, float]:
    qps = float(os.environ.get("SGPADMIN_EC2_QPS", DEFAULT_QPS))
    burst = float(os.environ.get("SGPADMIN_EC2_BURST", DEFAULT_BURST))
    if qps > 0 and burst < 1:
        raise ValueError("SGPADMIN_EC2_BURST must be at least 1")
    return qps, burst


@functools.cache
def bucket_for(credential_key: str, qps: float, burst: float, redis_url: str):
    if qps <= 0:
        return Unlimited()
    if redis_url:
        return RedisBucket(redis_url, credential_key, qps, burst)
    return LocalBucket(qps, burst)


def shared_bucket(credential_key: str):
    """The bucket of one credential set, per the settings of this process."""
    qps, burst = bucket_settings()
    return bucket_for(credential_key, qps, burst, getattr(settings, "REDIS_URL", "") or "")


def wait_for_token(bucket) -> float:
    """Block until the bucket allows one more request; returns the seconds waited."""
    wait = bucket.reserve()
    if wait > 0:
        time.sleep(wait)
    return wait
