"""Where cached pages live, and how they are dropped.

Redis (the production store): a page is one key holding the response bytes, so
a hit is a single GET. Each tag keeps a set of the page keys that show it;
invalidating a tag deletes those pages in one Lua script. A render that began
before an invalidation of one of its tags is not stored (the store script
compares the tag's version with the generation read before rendering), so a
slow render can never put back a page that an edit made stale.

Any other Django cache (the file cache used without Redis): one generation
number is part of every key, and any invalidation moves it on. Coarser, but
just as exact.

An invalidation that cannot reach Redis (down, paused, partitioned) is owed:
the process that failed remembers its tags and delivers them before its next
use of the store, and a background thread retries until Redis answers, so a
Redis that comes back with its pages never serves one older than that write.
Only the failing process knows what it owes: another process that reaches
Redis meanwhile may serve the old page until the owed invalidation lands (at
most OWED_RETRY_MAX_S after Redis answers again). An edge (Varnish, a CDN) may
fetch that old page meanwhile, so delivering what is owed purges the edges again.
A restarted Redis keeps no pages, and a new primary drops every page anyway
(_adopt_primary).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from functools import cache

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction

from core.cache import edge, near

log = logging.getLogger(__name__)

# Version marks outlive any render that could still be running.
TAG_VERSION_TTL = 24 * 3600
# Owed invalidations: past this many tags one purge of every page replaces them.
OWED_TAGS_MAX = 10_000
# The retry thread's pause between attempts grows to this; it stops trying after
# OWED_RETRY_FOR_S (the next use of the store still delivers what is owed).
OWED_RETRY_MAX_S = 1.0
OWED_RETRY_FOR_S = 3600.0

_STORE_LUA = """
local prefix, payload, ttl, token = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if token < tonumber(redis.call('GET', prefix .. 'floor') or '0') then return 0 end
for i = 5, #ARGV do
  local v = redis.call('GET', prefix .. 'tv:' .. ARGV[i])
  if v and tonumber(v) > token then return 0 end
end
redis.call('SET', KEYS[1], payload, 'EX', ttl)
for i = 5, #ARGV do
  local s = prefix .. 'tk:' .. ARGV[i]
  redis.call('SADD', s, KEYS[1])
  if redis.call('TTL', s) < ttl then redis.call('EXPIRE', s, ttl) end
end
return 1
"""

_INVALIDATE_LUA = """
local prefix, vttl = ARGV[1], tonumber(ARGV[2])
local gen = redis.call('INCR', prefix .. 'gen')
local dropped = 0
for i = 3, #ARGV do
  redis.call('SET', prefix .. 'tv:' .. ARGV[i], gen, 'EX', vttl)
  local s = prefix .. 'tk:' .. ARGV[i]
  local keys = redis.call('SMEMBERS', s)
  for j = 1, #keys, 500 do
    dropped = dropped + redis.call('DEL', unpack(keys, j, math.min(j + 499, #keys)))
  end
  redis.call('DEL', s)
end
return dropped
"""


class RedisPageStore:
    def __init__(self, client, prefix: str) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError

        self.client = client
        self.prefix = prefix
        self._local = threading.local()
        self.errors = (RedisError, OSError)
        self._closed_errors = RedisConnectionError
        self._store = client.register_script(_STORE_LUA)
        self._invalidate = client.register_script(_INVALIDATE_LUA)
        self._broadcast = client.register_script(near.BROADCAST_LUA)
        self._lapsed = client.register_script(near.LAPSED_LUA)
        self._owed_lock = threading.Lock()
        self._owed_tags: set[str] = set()
        self._owed_everything = False
        self._owed_failed_at = 0.0
        self._owed_since = 0.0  # the first failure of the current outage
        self._owed_seq = 0  # moves on with every owed invalidation
        self._retrier: threading.Thread | None = None

    def key(self, path: str) -> str:
        return f"{self.prefix}pg:{path}"

    def _connection(self):
        """This process's (and thread's) own connection for page reads.

        A hit is one GET; sending it on a held connection skips redis-py's pool,
        retry and telemetry layers, which cost more than the round trip itself.
        """
        held = getattr(self._local, "conn", None)
        if held is None or held[0] != os.getpid():  # none yet, or inherited over fork
            # Outside the pool's accounting: the pool caps how many it creates.
            # Under Sentinel the connection asks the sentinels for the primary.
            pool = self.client.connection_pool
            conn = pool.connection_class(**pool.connection_kwargs)
            try:
                conn.connect()  # Sentinel's connections find the primary here, not on send
                self._adopt_primary(conn)
            except BaseException:
                conn.disconnect()
                raise
            held = (os.getpid(), conn)
            self._local.conn = held
        return held[1]

    def _adopt_primary(self, conn) -> None:
        """Before the first read from a Redis primary this cache has not used yet
        (a failover, a restart), drop every page and refuse renders begun before:
        replication is asynchronous, so an invalidation acknowledged by the old
        primary may never have reached this one."""
        conn.send_command("INFO", "server")
        run_id = re.search(rb"run_id:(\w+)", conn.read_response()).group(1)
        conn.send_command("GET", f"{self.prefix}primary")
        seen = conn.read_response()
        if seen == run_id:
            return
        self.purge()
        # Above any token the old primary handed out: renders begun there are refused.
        floor = self.client.incrby(f"{self.prefix}gen", 1_000_000)
        self.client.set(f"{self.prefix}floor", floor)
        self.client.set(f"{self.prefix}primary", run_id)  # last: the purge is complete
        if seen is not None:
            log.warning("page cache: new Redis primary %s, every page dropped", run_id.decode())

    def get(self, path: str) -> bytes | None:
        if self._owed_tags or self._owed_everything:
            self.settle()
        for attempt in (1, 2):
            held = getattr(self._local, "conn", None)
            reused = held is not None and held[0] == os.getpid()
            conn = self._connection()
            try:
                conn.send_command("GET", self.key(path))
                return conn.read_response()
            except self._closed_errors:
                conn.disconnect()
                self._local.conn = None  # the next read reconnects, maybe to a new primary
                # A held socket that Redis (or the network) closed while it sat
                # idle, as after an outage: one fresh connection. Not after a
                # timeout (a hung Redis): that would wait twice.
                if not reused or attempt == 2:
                    raise
            except BaseException:
                conn.disconnect()
                self._local.conn = None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def token(self) -> int:
        if self._owed_tags or self._owed_everything:
            self.settle()
        self._connection()  # adopt a new primary first: its floor is above older tokens
        return int(self.client.get(f"{self.prefix}gen") or 0)

    def set(self, path: str, payload: bytes, *, tags: set[str], ttl: int, token: int) -> bool:
        # Settled first: the owed invalidation moves the tags' versions past a
        # token read before the write, so a render of the old rows is refused.
        if self._owed_tags or self._owed_everything:
            self.settle()
        args = [self.prefix, payload, ttl, token, *sorted(tags)]
        return bool(self._store(keys=[self.key(path)], args=args))

    def invalidate(self, tags: set[str]) -> near.Drop:
        """Drop the pages showing `tags`, and every worker's copies; returns who
        acknowledged that. When Redis cannot be reached the tags are owed (see
        settle) and the error is raised for the caller to log."""
        if self.owes() and time.monotonic() - self._owed_failed_at < OWED_RETRY_MAX_S:
            # Failed a moment ago: owe at once rather than make this write wait
            # for another timeout; the retry thread is already trying.
            self._owe(tags)
            self._outlast_copies()
            raise ConnectionError("Redis unreachable a moment ago; invalidation owed")
        try:
            self.settle()
            self._invalidate(keys=[], args=[self.prefix, TAG_VERSION_TTL, *sorted(tags)])
            return self.drop_copies()
        except self.errors:
            self._owe(tags)
            self._outlast_copies()
            raise

    def drop_copies(self) -> near.Drop:
        """Every worker's own copies of pages (core.cache.near) dropped, and
        acknowledged, before the write that called this returns."""
        return near.drop_everywhere(self.client, self.prefix, self._broadcast, self._lapsed)

    def _outlast_copies(self) -> None:
        """The drop could not be published: return only once every worker's
        lease granted before Redis stopped answering has lapsed, so that no
        worker still serves a copy this write made stale."""
        wait = self._owed_since + near.OUTAGE_WAIT_S - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def owes(self) -> bool:
        return bool(self._owed_tags) or self._owed_everything

    def _owe(self, tags: set[str]) -> None:
        with self._owed_lock:
            if not self.owes():
                self._owed_since = time.monotonic()
            self._owed_failed_at = time.monotonic()
            self._owed_seq += 1
            if not self._owed_everything:
                self._owed_tags |= tags
                if len(self._owed_tags) > OWED_TAGS_MAX:  # bounded: one purge instead
                    self._owed_everything, self._owed_tags = True, set()
            if self._retrier is None or not self._retrier.is_alive():
                self._retrier = threading.Thread(
                    target=self._retry_owed, name="page-cache-owed", daemon=True
                )
                self._retrier.start()

    def settle(self) -> None:
        """Deliver the invalidations this process owes; raises the store's error
        if Redis still cannot be reached (the caller then serves uncached)."""
        with self._owed_lock:
            tags, everything = set(self._owed_tags), self._owed_everything
            seq = self._owed_seq
        if everything:
            # Renders begun before now are refused; then every page goes.
            floor = self.client.incr(f"{self.prefix}gen")
            self.client.set(f"{self.prefix}floor", floor)
            self.purge()
        elif tags:
            self._invalidate(keys=[], args=[self.prefix, TAG_VERSION_TTL, *sorted(tags)])
            self.drop_copies()
        else:
            return
        with self._owed_lock:
            self._owed_tags -= tags
            if everything and self._owed_seq == seq:  # nothing owed since the purge began
                self._owed_everything = False
        # The edges were purged at the write, but may have fetched the pages again
        # since, from servers that still read the old ones here: purge them again.
        if everything:
            edge.purge_everything()
        else:
            edge.purge(tags)
        log.warning(
            "page cache: owed invalidation delivered (%s)",
            "every page" if everything else f"{len(tags)} tags",
        )

    def _retry_owed(self) -> None:
        """Deliver what is owed as soon as Redis answers, not only at this
        process's next request: other processes read the same pages."""
        started, pause = time.monotonic(), 0.1
        while self.owes() and time.monotonic() - started < OWED_RETRY_FOR_S:
            time.sleep(pause)
            try:
                self.settle()
            except self.errors:
                self._owed_failed_at = time.monotonic()
                pause = min(pause * 2, OWED_RETRY_MAX_S)

    def purge(self) -> int:
        dropped = 0
        for pattern in ("pg:*", "tk:*"):
            batch = []
            for key in self.client.scan_iter(match=f"{self.prefix}{pattern}", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    dropped += self.client.delete(*batch)
                    batch = []
            if batch:
                dropped += self.client.delete(*batch)
        self.client.incr(f"{self.prefix}gen")
        self.drop_copies()
        return dropped


class GenerationPageStore:
    """Any Django cache backend; one generation counter in every key."""

    def __init__(self, backend) -> None:
        self.cache = backend
        self.errors = (Exception,)

    def _gen(self) -> int:
        return int(self.cache.get("page-gen") or 0)

    def get(self, path: str) -> bytes | None:
        return self.cache.get(f"page:{self._gen()}:{path}")

    def token(self) -> int:
        return self._gen()

    def set(self, path: str, payload: bytes, *, tags: set[str], ttl: int, token: int) -> bool:
        self.cache.set(f"page:{token}:{path}", payload, ttl)
        return True

    def invalidate(self, tags: set[str]) -> int:
        if not self.cache.add("page-gen", 1, None):
            try:
                self.cache.incr("page-gen")
            except ValueError:  # expired between add and incr
                self.cache.set("page-gen", 1, None)
        return 0

    def purge(self) -> int:
        self.invalidate(set())
        return 0


@cache
def get_store() -> RedisPageStore | GenerationPageStore:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis."):
        from django_redis import get_redis_connection

        return RedisPageStore(get_redis_connection("default"), f"{settings.CACHE_KEY_PREFIX}:")
    return GenerationPageStore(django_cache)


def invalidate(tags: set[str]) -> None:
    """Drop every cached page showing any of `tags`. Never raises: a cache outage
    must not fail the write that caused it."""
    if not tags:
        return
    store = get_store()
    try:
        store.invalidate(tags)
    except store.errors as exc:
        # RedisPageStore owes it and delivers it when Redis answers again.
        log.warning("page cache invalidation failed for %s: %s", sorted(tags), exc)
    # After Redis: an edge that refetches at once must get the fresh page.
    edge.purge(tags)


def invalidate_on_commit(tags: set[str]) -> None:
    """`invalidate(tags)` once the current transaction commits, so no reader
    re-caches rows that are not committed yet."""
    if tags:
        frozen = frozenset(tags)
        transaction.on_commit(lambda: invalidate(set(frozen)))


def purge() -> int:
    dropped = get_store().purge()
    edge.purge_everything()
    return dropped
