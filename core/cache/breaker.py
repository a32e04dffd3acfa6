"""A Redis that stops answering costs a request at most one socket timeout.

A hung Redis (paused, overloaded, a half-open network path) accepts connections
and then says nothing, so every command waits for SOCKET_TIMEOUT. A search makes
three Redis round trips (page lookup, rate limit count and check), so it would
wait three times. With this connection class, a timeout opens the breaker for
that Redis address: for OPEN_SECONDS every command in this process fails at once,
as if Redis were down (pages are served uncached, invalidations are owed; see
core.cache.store). The first command after that tries again. A refused
connection fails at once by itself and does not open the breaker.

settings.py installs it for REDIS_URL through CONNECTION_POOL_KWARGS.
"""

from __future__ import annotations

import logging
import time

from redis.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

OPEN_SECONDS = 1.0
# (host, port) -> monotonic time until which that Redis is not asked. Process-wide:
# every connection of this process to one Redis shares its fate.
_open_until: dict[tuple[str, int], float] = {}


class OpenBreaker(RedisConnectionError):
    """Raised instead of waiting on a Redis that timed out a moment ago."""


class BreakerConnection(Connection):
    def _address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _check(self) -> None:
        until = _open_until.get(self._address())
        if until is not None and time.monotonic() < until:
            raise OpenBreaker(f"Redis {self.host}:{self.port} timed out under {OPEN_SECONDS}s ago")

    def _trip(self) -> None:
        if self._address() not in _open_until or time.monotonic() >= _open_until[self._address()]:
            log.warning(
                "Redis %s:%s timed out; not asked for %ss", self.host, self.port, OPEN_SECONDS
            )
        _open_until[self._address()] = time.monotonic() + OPEN_SECONDS

    def connect_check_health(self, *args, **kwargs):
        self._check()
        try:
            return super().connect_check_health(*args, **kwargs)
        except RedisTimeoutError:
            self._trip()
            raise

    def send_packed_command(self, command, check_health=True):
        self._check()
        try:
            return super().send_packed_command(command, check_health=check_health)
        except RedisTimeoutError:
            self._trip()
            raise

    def read_response(self, *args, **kwargs):
        try:
            return super().read_response(*args, **kwargs)
        except RedisTimeoutError:
            self._trip()
            raise
