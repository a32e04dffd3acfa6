"""Each worker's own copy of the pages it serves most, kept exact.

A hit from Redis costs a round trip; a hit from the worker's memory does not.
Copies in memory are only safe if no write can finish while a worker still holds
a page it made stale, so every Redis invalidation (RedisPageStore.invalidate,
settle, purge) ends with `drop_everywhere()`:

1. It publishes a nonce on the prefix's channel. Every worker's listener thread
   empties its copies on reading it, then acknowledges it (RPUSH of its id).
2. The writer waits for an acknowledgement from every connection that heard it
   (PUBLISH's count) and from every worker holding a lease (below).

A worker serves copies only while it holds a lease. Its listener renews the
lease every RENEW_S, then sends PING on the subscribed connection: Redis answers
it after every message published before, so when the PONG arrives each of those
was read, its copies dropped and acknowledged. Only then is the lease extended,
to LEASE_S * SAFE_SHARE past the moment the renewal was sent (never later than
the lease Redis holds). A writer stops waiting for a worker that neither
acknowledges nor renews once that lease has lapsed in Redis, and by then the
worker has stopped serving copies. A lost connection, a failed renewal or a
lease Redis no longer knew (a flushed or restarted Redis) empties the copies.

A copy is stored only if no drop happened since its lookup began (`seq`), so a
page read from Redis just before an invalidation cannot come back after it.

When Redis cannot be reached an invalidation is owed (core.cache.store), and
the writer waits until every lease granted before the outage has lapsed.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import os
import socket
import threading
import time
import uuid
from typing import NamedTuple

from redis.connection import Connection

from core.cache.breaker import BreakerConnection

log = logging.getLogger(__name__)

LEASE_S = 1.0
RENEW_S = 0.25
# The share of the lease a worker serves copies for, counted from before the
# renewal was sent: room for clocks that run at slightly different rates.
SAFE_SHARE = 0.8
# A write whose drop Redis did not take waits this long after the outage began:
# every copy served then was covered by a lease renewed before it.
OUTAGE_WAIT_S = LEASE_S * SAFE_SHARE + 0.05
# A writer that has heard nothing after this long logs an error and goes on:
# only a worker that renews without reading its messages could cause it.
WAIT_MAX_S = 3 * LEASE_S
# Pages larger than this share of the budget are never copied (sitemaps, feeds).
LARGEST_SHARE = 8

# Redis's own clock in milliseconds, as `now`: leases are kept in Redis time.
_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

BROADCAST_LUA = (
    _NOW_MS
    + """
local leases = ARGV[1] .. 'near:leases'
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
local heard = redis.call('PUBLISH', ARGV[1] .. 'near', ARGV[2])
return {heard, redis.call('ZRANGE', leases, 0, -1)}
"""
)

LAPSED_LUA = (
    _NOW_MS
    + """
local lapsed = {}
for i = 2, #ARGV do
  local until_ms = redis.call('ZSCORE', ARGV[1] .. 'near:leases', ARGV[i])
  if not until_ms or tonumber(until_ms) <= now then lapsed[#lapsed + 1] = ARGV[i] end
end
return lapsed
"""
)

RENEW_LUA = (
    _NOW_MS
    + """
local leases = ARGV[1] .. 'near:leases'
local held = redis.call('ZSCORE', leases, ARGV[2])
redis.call('ZADD', leases, now + tonumber(ARGV[3]), ARGV[2])
if held and tonumber(held) > now then return 1 end
return 0
"""
)


ACK_LUA = """
local ack = ARGV[1] .. 'near:ack:' .. ARGV[2]
redis.call('RPUSH', ack, ARGV[3])
redis.call('EXPIRE', ack, 60)
"""


class Copy(NamedTuple):
    expires: float  # time.time(), as stored with the page
    stored: object  # page.Stored
    size: int


class NearCache:
    """This process's copies; `get` and `put` are called by request threads,
    everything else by the listener thread."""

    def __init__(self, client, prefix: str, max_bytes: int) -> None:
        self.client = client
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.channel = f"{prefix}near"
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.sessions = itertools.count(1)
        self.worker = f"{self.name}:0"
        self.copies: dict[str, Copy] = {}
        self.bytes = 0
        self.lock = threading.Lock()
        self.seq = 0  # moves on with every drop
        self.valid_until = 0.0  # time.monotonic(): copies are served only before it
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._listen, name="page-cache-near", daemon=True)

    # --- request threads ----------------------------------------------------------
    def get(self, key: str):
        if time.monotonic() >= self.valid_until:
            return None
        copy = self.copies.get(key)
        if copy is None or time.time() >= copy.expires:
            return None
        return copy.stored

    def put(self, key: str, expires: float, stored, seq: int) -> None:
        size = len(stored.body) + 512
        if size > self.max_bytes // LARGEST_SHARE:
            return
        with self.lock:
            if seq != self.seq or time.monotonic() >= self.valid_until:
                return  # dropped since the lookup began, or no lease: not safe
            old = self.copies.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            while self.copies and self.bytes + size > self.max_bytes:
                self.bytes -= self.copies.pop(next(iter(self.copies))).size  # oldest first
            self.copies[key] = Copy(expires, stored, size)
            self.bytes += size

    # --- listener thread ----------------------------------------------------------
    def drop(self) -> None:
        with self.lock:
            self._clear()

    def _clear(self) -> None:
        """Every copy gone, and lookups begun before refused; under `lock`."""
        self.seq += 1
        self.copies.clear()
        self.bytes = 0

    def _lapse(self) -> None:
        with self.lock:
            self.valid_until = 0.0
            self._clear()

    def _listen(self) -> None:
        pause = 0.05
        while not self.stopped.is_set():
            # A lease name of this session's own: a writer still waiting for an
            # acknowledgement from the last session sees that lease lapse.
            self.worker = f"{self.name}:{next(self.sessions)}"
            try:
                self._session()
                pause = 0.05
            except Exception as exc:  # noqa: BLE001 - any failure: stop serving copies, retry
                if not self.stopped.is_set():
                    log.info("page cache near copies: listener restarts: %s", exc)
            self._lapse()
            self._release()
            self.stopped.wait(pause)
            pause = min(pause * 2, RENEW_S * 4)

    def _connection(self):
        """A connection of the listener's own, outside the pool. Its timeouts do
        not open the breaker (core.cache.breaker) that makes requests skip Redis:
        a slow renewal only lapses the lease, which the reads do not depend on."""
        pool = self.client.connection_pool
        cls = pool.connection_class
        if issubclass(cls, BreakerConnection):
            cls = Connection
        conn = cls(**{**pool.connection_kwargs, "socket_timeout": LEASE_S})
        conn.connect()
        return conn

    def _session(self) -> None:
        subscribed, commands = self._connection(), self._connection()
        try:
            subscribed.send_command("SUBSCRIBE", self.channel)
            _read(subscribed)  # the subscription's confirmation
            while not self.stopped.is_set():
                started = time.monotonic()
                commands.send_command(
                    "EVAL", RENEW_LUA, 0, self.prefix, self.worker, int(LEASE_S * 1000)
                )
                kept = commands.read_response()
                subscribed.send_command("PING")
                while not _is_pong(reply := _read(subscribed)):
                    self._handle(reply, commands)
                # Every message published before the renewal has been handled.
                with self.lock:
                    if not kept:  # a lapse or a lost lease: writers may have skipped us
                        self._clear()
                    self.valid_until = started + LEASE_S * SAFE_SHARE
                while (left := started + RENEW_S - time.monotonic()) > 0:
                    if subscribed.can_read(timeout=left):
                        self._handle(_read(subscribed), commands)
        finally:
            subscribed.disconnect()
            commands.disconnect()

    def _handle(self, reply, commands) -> None:
        """A drop published by a writer: empty the copies, then acknowledge."""
        if not isinstance(reply, list) or reply[0] != b"message":
            return
        self.drop()
        commands.send_command("EVAL", ACK_LUA, 0, self.prefix, reply[2], self.worker)
        commands.read_response()

    def stop(self, *, release: bool = False) -> None:
        """No copies from now on; the listener gives up its lease as it ends (or
        here, with `release`, for a process about to exit)."""
        self.stopped.set()
        self._lapse()
        if release:
            self._release()

    def _release(self) -> None:
        with contextlib.suppress(Exception):  # unreachable: the lease lapses by itself
            conn = self._connection()
            try:
                conn.send_command("ZREM", f"{self.prefix}near:leases", self.worker)
                conn.read_response()
            finally:
                conn.disconnect()


def _read(conn):
    # Messages of a subscription come as push replies in redis-py: ask for them.
    return conn.read_response(push_request=True)


def _is_pong(reply) -> bool:
    return reply == b"PONG" or (isinstance(reply, list) and reply[0] == b"pong")


_near: NearCache | None = None
_near_lock = threading.Lock()


def _forget_after_fork() -> None:
    global _near
    _near = None  # the parent's listener thread does not exist in the child


os.register_at_fork(after_in_child=_forget_after_fork)


def _serves(near: NearCache | None, store) -> bool:
    return near is not None and near.client is store.client and near.prefix == store.prefix


def current(store, max_bytes: int) -> NearCache | None:
    """This process's copies of `store`'s pages, their listener started on first
    use; None unless the store is Redis."""
    near = _near
    if hasattr(store, "client") and _serves(near, store):
        return near
    return _start(store, max_bytes)


def _start(store, max_bytes: int) -> NearCache | None:
    global _near
    if not hasattr(store, "client"):
        return None
    with _near_lock:
        if _serves(_near, store):
            return _near
        if _near is not None:
            _near.stop()
        _near = NearCache(store.client, store.prefix, max_bytes)
        _near.thread.start()
        return _near


@atexit.register
def _exit() -> None:
    """A worker that exits (max_requests, a restart) gives up its lease, so that
    writes do not wait for it to lapse."""
    if _near is not None:
        _near.stop(release=True)


class Drop(NamedTuple):
    acknowledged: int  # listeners that emptied their copies and said so
    silent: list[str]  # lease holders that neither answered nor lapsed (never, normally)
    seconds: float


def drop_everywhere(client, prefix: str, broadcast, lapsed) -> Drop:
    """Publish a drop and wait until no worker can still serve a copy from
    before it: see the module's docstring."""
    nonce = uuid.uuid4().hex
    started = time.monotonic()
    heard, holders = broadcast(keys=[], args=[prefix, nonce])
    waiting = {h.decode() for h in holders}
    if not heard and not waiting:
        return Drop(0, [], time.monotonic() - started)
    acked: set[str] = set()
    ack = f"{prefix}near:ack:{nonce}"
    while waiting or (len(acked) < heard and time.monotonic() - started < LEASE_S):
        if time.monotonic() - started > WAIT_MAX_S:
            log.error("page cache: no acknowledgement of a drop from %s", sorted(waiting))
            break
        got = client.blpop([ack], timeout=0.05)
        if got is not None:
            worker = got[1].decode()
            acked.add(worker)
            waiting.discard(worker)
        elif waiting:
            waiting -= {w.decode() for w in lapsed(keys=[], args=[prefix, *sorted(waiting)])}
    client.delete(ack)
    return Drop(len(acked), sorted(waiting), time.monotonic() - started)
