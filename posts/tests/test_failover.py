"""Redis failover under Sentinel: a real primary, replica and sentinel on
127.0.0.1; the app (gunicorn, REDIS_SENTINELS) keeps answering 200 while the
primary is killed and the replica promoted, and never serves a page older than
the last write, even one the new primary kept because an invalidation
acknowledged by the old primary never reached it.
"""

import html
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis

from core.cache import page
from posts.tests.edge import (
    AdminSession,
    AppServer,
    editor_for_other_processes,
    free_port,
    wait_for_port,
)
from posts.tests.test_cache import PAGES, admin_post_data
from posts.tests.test_cache import site as site_fixture

pytestmark = pytest.mark.django_db(transaction=True)
site = site_fixture  # the same authors, tags, series and posts as test_cache.py
SERVICE = "blogsite"
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_SENTINEL = shutil.which("redis-sentinel") or "/usr/bin/redis-sentinel"


class RedisGroup:
    """One primary, one replica and one sentinel (quorum 1, down after 500 ms)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="blogsite-sentinel-"))
        self.procs: dict[str, subprocess.Popen] = {}
        self.primary_port, self.replica_port, self.sentinel_port = (free_port() for _ in "abc")
        # --dir: a replica writes the primary's snapshot there on its first sync.
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(self.dir)]
        self._start(
            "primary", self.primary_port, [REDIS_SERVER, "--port", str(self.primary_port), *common]
        )
        # Writable, so the test can plant what a lost invalidation leaves behind.
        self._start(
            "replica",
            self.replica_port,
            [
                REDIS_SERVER,
                "--port",
                str(self.replica_port),
                *common,
                "--replicaof",
                "127.0.0.1",
                str(self.primary_port),
                "--replica-read-only",
                "no",
            ],
        )
        conf = self.dir / "sentinel.conf"
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndir {self.dir}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} 1\n"
            f"sentinel down-after-milliseconds {SERVICE} 500\n"
            f"sentinel failover-timeout {SERVICE} 2000\n"
        )
        self._start("sentinel", self.sentinel_port, [REDIS_SENTINEL, str(conf)])  # fmt: skip
        self.primary = redis.Redis(port=self.primary_port)
        self.replica = redis.Redis(port=self.replica_port)
        self.sentinel = redis.Redis(port=self.sentinel_port, decode_responses=True)
        self._wait(lambda: self.replica.info("replication")["master_link_status"] == "up")
        self._wait(lambda: self.sentinel.execute_command("SENTINEL", "REPLICAS", SERVICE))

    def _start(self, name: str, port: int, args: list[str]) -> None:
        log = self.dir / f"{name}.log"
        with log.open("w") as out:
            self.procs[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        wait_for_port(port, self.procs[name], log)

    @staticmethod
    def _wait(check, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if check():
                    return
            except redis.RedisError:
                pass
            assert time.monotonic() < deadline, "Redis replication or Sentinel not ready"
            time.sleep(0.05)

    def primary_address(self) -> int:
        return int(self.sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", SERVICE)[1])

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def group():
    servers = RedisGroup()
    yield servers
    servers.close()


class Reader(threading.Thread):
    """Requests a page every 20 ms and records (time, status, body)."""

    def __init__(self, app: AppServer, path: str) -> None:
        super().__init__(daemon=True)
        self.app, self.path = app, path
        self.seen: list[tuple[float, int, str]] = []
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                status, _, body = self.app.get(self.path)
            except OSError as exc:
                status, body = 0, str(exc)
            self.seen.append((time.monotonic(), status, body))
            time.sleep(0.02)


def test_the_site_survives_a_redis_failover_and_never_serves_a_lost_invalidation(
    site, group, settings, tmp_path_factory
):
    env = {"REDIS_SENTINELS": f"127.0.0.1:{group.sentinel_port}", "REDIS_SENTINEL_SERVICE": SERVICE}
    app = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache", workers=2, **env)
    reader = Reader(app, PAGES["post"])
    try:
        editor_for_other_processes()
        editor = AdminSession(app.url, "editor")
        path = PAGES["post"]
        # Both workers cache the page; the replica gets a copy.
        for _ in range(4):
            assert app.get(path)[0] == 200
        assert app.get(path)[1]["x-page-cache"] == "hit"
        key = f"{settings.CACHE_KEY_PREFIX}:pg:{page.FORMAT}:{path}"
        group._wait(lambda: group.replica.get(key) is not None)
        old_copy = group.replica.get(key)

        status, _ = editor.post(
            f"/admin/posts/post/{site.post.pk}/change/",
            admin_post_data(site.post, title="Last write before failover"),
        )
        assert status == 200
        assert html.escape("Last write before failover") in app.get(path)[2]
        # The invalidation reached the replica; plant the page as if it had not.
        group._wait(
            lambda: group.replica.get(key) is None or b"Last write" in group.replica.get(key)
        )
        group.replica.set(key, old_copy)

        reader.start()
        time.sleep(0.5)
        killed = time.monotonic()
        os.kill(group.procs["primary"].pid, signal.SIGKILL)
        group._wait(lambda: group.primary_address() == group.replica_port, seconds=30)
        promoted = time.monotonic()
        time.sleep(2)
        reader.running = False
        reader.join()

        during = [s for s in reader.seen if killed <= s[0] <= promoted]
        after = [s for s in reader.seen if s[0] > promoted]
        timeline = {
            "kill_to_promotion_s": round(promoted - killed, 2),
            "requests_during_failover": len(during),
            "statuses_during": sorted({s[1] for s in during}),
            "requests_in_2s_after": len(after),
            "statuses_after": sorted({s[1] for s in after}),
        }
        print("failover timeline:", json.dumps(timeline))
        assert {s[1] for s in reader.seen} == {200}, timeline
        assert during and after, timeline
        stale = [s for s in reader.seen if "Original headline" in s[2]]
        assert not stale, f"{len(stale)} responses showed the title before the last write"
        assert all(html.escape("Last write before failover") in s[2] for s in reader.seen)
        assert app.get(path)[1]["x-page-cache"] == "hit"  # caching again, on the new primary

        # Writes after the failover invalidate on the new primary.
        editor.post(
            f"/admin/posts/post/{site.post.pk}/change/",
            admin_post_data(site.post, title="First write after failover"),
        )
        body = app.get(path)[2]
        assert html.escape("First write after failover") in body
        assert "Last write before failover" not in body
    finally:
        reader.running = False
        app.close()
