"""Faults, with real servers of the test's own: a Redis that stops, pauses or is cut
off by a partition, and a PostgreSQL that restarts under a running gunicorn.

The site keeps answering (uncached, never an error page), costs at most the Redis
socket timeout per request while Redis hangs, picks caching up again without a
restart, and never serves a page older than a write whose invalidation Redis
missed.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from core.cache import near
from core.cache.breaker import OPEN_SECONDS
from core.cache.store import OWED_RETRY_MAX_S, get_store
from posts import services
from posts.tests.edge import AppServer, free_port, wait_for_port
from posts.tests.test_cache import PAGES
from posts.tests.test_cache import site as site_fixture

pytestmark = pytest.mark.django_db(transaction=True)
site = site_fixture  # the same authors, tags, series and posts as test_cache.py
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
SOCKET_TIMEOUT = django_settings.CACHES["default"].get("OPTIONS", {}).get("SOCKET_TIMEOUT", 0.5)
# Every reader page type, feeds and sitemaps included.
READER_PAGES = {**PAGES, "search": "/search/?q=headline", "sitemap_index": "/sitemap.xml"}


class RedisServer:
    """redis-server in the foreground on a fixed free port: stopped and started
    again on the same port, or paused with SIGSTOP (a hung Redis)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="blogsite-faults-redis-"))
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        log = self.dir / "redis.log"
        with log.open("a") as out:
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                 "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_for_port(self.port, self.proc, log)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused server cannot exit
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Partition:
    """A TCP forwarder in front of Redis that the test can cut, as a network
    partition would: cut, new connections are refused and open ones dropped,
    while Redis itself keeps running with every page it holds."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.heal()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def heal(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self.listener.close()
        with self.lock:
            for s in self.sockets:
                self._close(s)
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        self._close(source)
        self._close(sink)

    @staticmethod
    def _close(s: socket.socket) -> None:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.cut()


@pytest.fixture
def redis_server():
    server = RedisServer()
    yield server
    server.close()


def use_redis(settings, url: str) -> None:
    """This test process's cache and page store on `url`, as the servers' settings have it."""
    settings.CACHES = {
        "default": {
            **settings.CACHES.get("default", {}),
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": settings.CACHE_KEY_PREFIX,
            "OPTIONS": {
                "IGNORE_EXCEPTIONS": True,
                "SOCKET_CONNECT_TIMEOUT": SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": SOCKET_TIMEOUT,
            },
        }
    }
    get_store.cache_clear()


@pytest.fixture
def own_store():
    """get_store() is per process and cached: start and end with a fresh one."""
    get_store.cache_clear()
    yield
    get_store.cache_clear()


@pytest.fixture
def app_servers(tmp_path_factory):
    started: list[AppServer] = []

    def start(**env: str) -> AppServer:
        app = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache", **env)
        started.append(app)
        return app

    yield start
    for app in started:
        app.close()


def timed_get(app: AppServer, path: str) -> tuple[float, int, dict[str, str], str]:
    t0 = time.perf_counter()
    status, headers, body = app.get(path)
    return time.perf_counter() - t0, status, headers, body


def until(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


def test_every_page_answers_200_uncached_while_redis_is_down_and_caching_resumes_after(
    site, redis_server, app_servers
):
    app = app_servers(workers=1, REDIS_URL=redis_server.url)
    for name, path in READER_PAGES.items():
        assert app.get(path)[0] == 200, name
    assert app.get(PAGES["post"])[1]["x-page-cache"] == "hit"
    assert app.get("/readyz")[0] == 200

    redis_server.stop()
    # The worker's own copy of the post page (core.cache.near) may answer until
    # its lease lapses, at most this long into the outage; then Redis is asked.
    time.sleep(near.LEASE_S * near.SAFE_SHARE)
    for name, path in READER_PAGES.items():
        status, headers, body = app.get(path)
        assert status == 200, (name, body[-500:])
        assert headers.get("x-page-cache") == "unavailable", name
    ready_status, _, ready = app.get("/readyz")
    assert ready_status == 503
    assert '"cache": "error' in ready and '"database": "ok"' in ready

    redis_server.start()  # the same port, no restart of gunicorn
    for name, path in READER_PAGES.items():
        assert app.get(path)[1].get("x-page-cache") == "miss", name  # rendered and stored
        assert app.get(path)[1].get("x-page-cache") == "hit", name
    assert app.get("/readyz")[0] == 200


def test_the_page_stores_held_connection_has_the_configured_timeouts(
    redis_server, settings, own_store
):
    use_redis(settings, redis_server.url)
    conn = get_store()._connection()
    assert conn.socket_timeout == SOCKET_TIMEOUT
    assert conn.socket_connect_timeout == SOCKET_TIMEOUT
    assert SOCKET_TIMEOUT <= 0.5  # what the settings ship: a hung Redis costs half a second


def test_a_paused_redis_costs_each_request_at_most_the_socket_timeout(
    site, redis_server, app_servers
):
    app = app_servers(workers=2, REDIS_URL=redis_server.url)
    for path in READER_PAGES.values():
        app.get(path)
    redis_server.pause()
    try:
        # Both workers, every page type, a few rounds: each request waits for
        # the timeout once (the page lookup), then renders without the cache.
        durations = {}
        for name, path in READER_PAGES.items():
            for _ in range(2):
                seconds, status, headers, _ = timed_get(app, path)
                assert status == 200, name
                assert headers.get("x-page-cache") == "unavailable", name
                durations[name] = max(durations.get(name, 0), seconds)
        margin = 0.4  # rendering uncached on a shared 2-core machine
        slow = {n: round(s, 2) for n, s in durations.items() if s > SOCKET_TIMEOUT + margin}
        assert not slow, f"over {SOCKET_TIMEOUT}s + {margin}s: {slow}"
        # Concurrent requests beyond the worker count queue behind the timeouts,
        # but none hangs: eight at once finish within four timeouts each.
        results: list[float] = []

        def one() -> None:
            results.append(timed_get(app, PAGES["home"])[0])

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(results) == 8
        assert max(results) < 4 * (SOCKET_TIMEOUT + margin), results
    finally:
        redis_server.resume()
    # Resumed: once each worker's breaker has closed again, both serve hits at
    # once; no worker was lost or left hanging.
    time.sleep(OPEN_SECONDS)
    for _ in range(6):
        seconds, status, headers, _ = timed_get(app, PAGES["post"])
        assert (status, headers.get("x-page-cache")) == (200, "hit")
        assert seconds < 0.2


def test_a_redis_that_timed_out_is_not_waited_for_again_until_the_breaker_closes(redis_server):
    import redis

    from core.cache.breaker import BreakerConnection, OpenBreaker

    pool = redis.ConnectionPool(
        connection_class=BreakerConnection,
        host="127.0.0.1",
        port=redis_server.port,
        socket_timeout=SOCKET_TIMEOUT,
        socket_connect_timeout=SOCKET_TIMEOUT,
    )
    client = redis.Redis(connection_pool=pool)
    assert client.ping()
    redis_server.pause()
    try:
        t0 = time.perf_counter()
        with pytest.raises(redis.TimeoutError):
            client.get("k")
        assert SOCKET_TIMEOUT * 0.9 < time.perf_counter() - t0 < SOCKET_TIMEOUT + 0.3
        t0 = time.perf_counter()
        with pytest.raises(OpenBreaker):
            client.get("k")  # not waited for: the breaker is open
        assert time.perf_counter() - t0 < 0.05
    finally:
        redis_server.resume()
    time.sleep(OPEN_SECONDS)
    assert client.ping()  # closed again: Redis is asked, and answers
    pool.disconnect()


def test_an_invalidation_lost_to_a_partition_is_delivered_before_the_next_request(
    site, redis_server, settings, own_store
):
    partition = Partition(redis_server.port)
    try:
        use_redis(settings, partition.url)
        reader = Client()
        reader.get(PAGES["post"])
        assert reader.get(PAGES["post"])["X-Page-Cache"] == "hit"

        partition.cut()
        t0 = time.perf_counter()
        services.post_update(post=site.post, title="Written while Redis was cut off")
        write_seconds = time.perf_counter() - t0
        # Held up by at most one timeout, and until every worker's copies of
        # pages (core.cache.near) have stopped being served: its reader had one.
        assert near.OUTAGE_WAIT_S <= write_seconds < SOCKET_TIMEOUT + near.OUTAGE_WAIT_S + 0.5
        assert get_store().owes()
        during = reader.get(PAGES["post"])
        assert during["X-Page-Cache"] == "unavailable"
        assert "Written while Redis was cut off" in during.content.decode()

        partition.heal()  # Redis still holds the old page: it was never restarted
        after = reader.get(PAGES["post"])
        assert "Written while Redis was cut off" in after.content.decode()
        assert "Original headline" not in after.content.decode()
        assert after["X-Page-Cache"] == "miss"
        assert not get_store().owes()
        assert reader.get(PAGES["post"])["X-Page-Cache"] == "hit"
    finally:
        partition.close()


def test_delivering_an_owed_invalidation_purges_the_edges_again(
    site, redis_server, settings, own_store
):
    """At the write the edge is purged at once, but while Redis is cut off the
    servers still answer its refetch with the old page; once the invalidation
    reaches Redis, the edge is purged again, so it cannot keep that old page.
    (The last `make bench` through Varnish served 20 stale pages this way when the
    editor's Redis timed out under load.) The CDN is a local stand-in."""
    from posts.tests.test_edge_cdn import RecordingAPI

    cdn = RecordingAPI()
    partition = Partition(redis_server.port)
    try:
        settings.FASTLY_SERVICE_ID = "svc1"
        settings.FASTLY_API_TOKEN = "token"
        settings.FASTLY_API_URL = cdn.url
        use_redis(settings, partition.url)
        reader = Client()
        reader.get(PAGES["post"])
        post_tag = f"p{site.post.pk}"

        partition.cut()
        services.post_update(post=site.post, title="Written while Redis was cut off")
        assert get_store().owes()
        purged = [c["body"]["surrogate_keys"] for c in cdn.calls]
        assert len(purged) == 1 and post_tag in purged[0]  # at the write

        partition.heal()
        after = reader.get(PAGES["post"])  # delivers what is owed first
        assert "Written while Redis was cut off" in after.content.decode()
        assert not get_store().owes()
        purged = [c["body"]["surrogate_keys"] for c in cdn.calls]
        assert len(purged) == 2 and post_tag in purged[1]  # and again on delivery
        assert [c["path"] for c in cdn.calls] == ["/service/svc1/purge"] * 2
    finally:
        partition.close()
        cdn.close()


def test_an_invalidation_owed_by_one_process_reaches_the_others_once_redis_answers(
    site, redis_server, settings, own_store, app_servers
):
    """The writer (this process) owes the invalidation; gunicorn's workers, which
    read the same Redis, never learn of the write themselves. The writer's retry
    thread delivers it within OWED_RETRY_MAX_S of Redis answering again."""
    partition = Partition(redis_server.port)
    try:
        use_redis(settings, partition.url)
        app = app_servers(workers=2, REDIS_URL=redis_server.url)
        for _ in range(3):
            app.get(PAGES["post"])
        assert app.get(PAGES["post"])[1]["x-page-cache"] == "hit"

        partition.cut()  # only the writer is cut off
        services.post_update(post=site.post, title="Written by a cut-off process")
        assert get_store().owes()
        assert "Original headline" in app.get(PAGES["post"])[2]  # the store still has it

        partition.heal()
        healed = time.monotonic()
        fresh = until(
            lambda: html.escape("Written by a cut-off process") in app.get(PAGES["post"])[2],
            seconds=OWED_RETRY_MAX_S + 3,
        )
        assert fresh, "the owed invalidation never reached Redis"
        assert time.monotonic() - healed < OWED_RETRY_MAX_S + 1.5
        assert not get_store().owes()
        for _ in range(6):  # and the old page never comes back
            assert "Original headline" not in app.get(PAGES["post"])[2]
    finally:
        partition.close()


def test_owed_invalidations_past_the_bound_become_one_purge_of_every_page(
    site, redis_server, settings, own_store
):
    from core.cache import store as store_module

    partition = Partition(redis_server.port)
    try:
        use_redis(settings, partition.url)
        reader = Client()
        reader.get(PAGES["tag"])
        assert reader.get(PAGES["tag"])["X-Page-Cache"] == "hit"
        partition.cut()
        store = get_store()
        settings_bound, store_module.OWED_TAGS_MAX = store_module.OWED_TAGS_MAX, 5
        try:
            store_module.invalidate({f"unrelated-{i}" for i in range(10)})
        finally:
            store_module.OWED_TAGS_MAX = settings_bound
        assert store.owes() and store._owed_everything and not store._owed_tags
        partition.heal()
        response = reader.get(PAGES["tag"])  # no tag of this page was named: purged all the same
        assert response["X-Page-Cache"] == "miss"
        assert not store.owes()
    finally:
        partition.close()


# --- PostgreSQL restart --------------------------------------------------------


# The newest installed PostgreSQL (scripts/with-services.sh installs it), as that script picks it.
def pg_bin(name: str) -> str:
    newest = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return str(newest / name)


def as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


class PostgresServer:
    """A PostgreSQL cluster of the test's own (initdb, pg_ctl as the postgres user)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="blogsite-faults-pg-"))
        self.dir.chmod(0o755)
        self.data = self.dir / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            as_postgres(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                        "-A", "trust", "-E", "UTF8"),
            check=True, capture_output=True,
        )  # fmt: skip
        self.pg_ctl("start", "-w", "-l", str(self.dir / "log"), "-o",
                    f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off")  # fmt: skip
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "blogsite"],
            check=True, capture_output=True,
        )  # fmt: skip
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/blogsite"

    def pg_ctl(self, *args: str) -> None:
        # The server's output to its log file: a pipe would be held open by the
        # postmaster and never reach end-of-file.
        with (self.dir / "pg_ctl.out").open("a") as out:
            subprocess.run(
                as_postgres(pg_bin("pg_ctl"), "-D", str(self.data), *args),
                check=True, stdout=out, stderr=subprocess.STDOUT, timeout=60,
            )  # fmt: skip

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def postgres_server():
    server = PostgresServer()
    yield server
    server.close()


def manage(db_url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": "faults-not-secret-" + "x" * 40}
    env.pop("REDIS_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=Path(__file__).resolve().parents[2], env=env, check=True, capture_output=True,
        timeout=300,
    )  # fmt: skip


def test_a_postgresql_restart_is_survived_on_the_next_request_without_restarting_gunicorn(
    postgres_server, app_servers
):
    manage(postgres_server.url, "migrate", "--noinput", "-v0")
    manage(postgres_server.url, "seed_demo", "--posts", "20", "--authors", "3", "--tags", "5")
    # One worker, so the connection it holds is the one the restart breaks; no
    # page cache, so every request reaches the database.
    app = app_servers(
        workers=1, DATABASE_URL=postgres_server.url, PAGE_CACHE_ENABLED="false", REDIS_URL=""
    )
    pages = ["/", "/tags/", "/authors/", "/feed/", "/sitemap.xml", "/readyz"]
    for path in pages:
        assert app.get(path)[0] == 200, path
    for _ in range(2):
        postgres_server.pg_ctl(
            "restart", "-m", "fast", "-w", "-l", str(postgres_server.dir / "log")
        )
        for path in pages:  # the very first request after the restart included
            status, _, body = app.get(path)
            assert status == 200, (path, body[-500:])
