"""Each worker's own copies of pages (core.cache.near): hits answered without a
Redis round trip, and still never a stale page after a write returns, in this
process and across gunicorn workers, with the real Redis of the suite.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from django.test import Client

from core.cache import near
from core.cache.page import Stored
from core.cache.store import get_store
from posts import services
from posts.tests.edge import AppServer
from posts.tests.test_cache import PAGES
from posts.tests.test_cache import site as site_fixture

site = site_fixture  # the same authors, tags, series and posts as test_cache.py


def gets_served() -> int:
    """How many GETs Redis has answered: a page read from Redis is one."""
    stats = get_store().client.info("commandstats")
    return stats.get("cmdstat_get", {}).get("calls", 0)


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def copies() -> near.NearCache:
    """This process's copies, with a lease: a first request starts the listener."""
    Client().get("/healthz")
    store = get_store()
    found = near.current(store, 8 * 1024 * 1024)
    wait_for(lambda: found.valid_until > time.monotonic())
    return found


def post_page_copied() -> tuple[near.NearCache, Client]:
    """(this process's copies, a reader) once the post page is among the copies."""
    held = copies()
    reader = Client()
    for _ in range(3):  # a miss, a hit from Redis, a hit from the copy
        reader.get(PAGES["post"])
    assert held.get("v2:/posts/original/") is not None
    return held, reader


@pytest.mark.django_db
def test_a_repeated_hit_is_answered_from_the_copy_without_asking_redis(site):
    held = copies()
    reader = Client()
    assert reader.get(PAGES["post"])["X-Page-Cache"] == "miss"
    assert reader.get(PAGES["post"])["X-Page-Cache"] == "hit"  # from Redis; now copied
    before = gets_served()
    for _ in range(5):
        response = reader.get(PAGES["post"])
        assert response["X-Page-Cache"] == "hit"
        assert "Original headline" in response.content.decode()
    assert gets_served() == before
    assert "v2:/posts/original/" in held.copies


@pytest.mark.django_db
def test_an_edit_drops_every_copy_before_it_returns(site, django_capture_on_commit_callbacks):
    held, reader = post_page_copied()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_update(post=site.post, title="Edited after copying")
    assert held.copies == {}
    response = reader.get(PAGES["post"])
    assert response["X-Page-Cache"] == "miss"
    assert "Edited after copying" in response.content.decode()


@pytest.mark.django_db
def test_a_page_read_before_a_drop_is_not_copied_after_it(site):
    held = copies()
    reader = Client()
    reader.get(PAGES["post"])  # stored in Redis
    seq = held.seq  # a lookup begins here ...
    get_store().invalidate({"posts"})  # ... an edit drops everything meanwhile ...
    held.put("v2:/posts/original/", time.time() + 60, Stored(200, [], b"old page"), seq)
    assert held.copies == {}  # ... so what it read is not kept


@pytest.mark.django_db
def test_copies_are_not_served_once_the_lease_has_lapsed(site):
    held, reader = post_page_copied()
    with held.lock:
        held.valid_until = time.monotonic()  # as if the listener had not renewed
    assert held.get("v2:/posts/original/") is None
    assert reader.get(PAGES["post"])["X-Page-Cache"] == "hit"  # from Redis instead


@pytest.mark.django_db
def test_a_lease_redis_forgot_drops_every_copy_at_the_next_renewal(site):
    held, _ = post_page_copied()
    get_store().client.delete(f"{held.prefix}near:leases")  # a flushed Redis
    wait_for(lambda: not held.copies)
    wait_for(lambda: held.valid_until > time.monotonic())  # leased again afterwards


@pytest.mark.django_db
def test_a_lost_subscription_drops_every_copy_and_is_taken_up_again(site):
    held, reader = post_page_copied()
    killed = get_store().client.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
    assert killed >= 1
    wait_for(lambda: not held.copies)
    wait_for(lambda: held.valid_until > time.monotonic())
    reader.get(PAGES["post"])
    assert reader.get(PAGES["post"])["X-Page-Cache"] == "hit"
    assert held.copies


def test_the_budget_bounds_the_copies_and_large_pages_are_never_copied():
    held = near.NearCache(get_store().client, "budget-test:", 64 * 1024)
    held.valid_until = time.monotonic() + 60
    page = Stored(200, [], b"x" * 4000)
    for i in range(40):
        held.put(f"k{i}", time.time() + 60, page, held.seq)
    assert held.bytes <= 64 * 1024
    assert "k39" in held.copies and "k0" not in held.copies  # the oldest went first
    held.put("big", time.time() + 60, Stored(200, [], b"x" * 9000), held.seq)
    assert "big" not in held.copies  # over an eighth of the budget
    held.put("past", time.time() - 1, page, held.seq)
    assert held.get("past") is None  # expired with its page


@pytest.mark.django_db
def test_a_drop_waits_for_a_subscriber_that_does_not_answer_until_its_lease_would_lapse():
    store = get_store()
    pool = store.client.connection_pool
    silent = pool.connection_class(**pool.connection_kwargs)
    silent.connect()
    try:
        silent.send_command("SUBSCRIBE", f"{store.prefix}near")
        silent.read_response(push_request=True)
        started = time.monotonic()
        store.drop_copies()
        waited = time.monotonic() - started
        # A worker that heard the drop but did not acknowledge it has not renewed
        # its lease since: after LEASE_S it cannot be serving a copy.
        assert near.LEASE_S <= waited < near.WAIT_MAX_S
        message = silent.read_response(push_request=True)
        assert message[0] == b"message"
    finally:
        silent.disconnect()


@pytest.mark.django_db
def test_a_drop_waits_for_a_lease_holder_until_its_lease_lapses():
    store = get_store()
    client = store.client
    now_s, now_us = client.time()
    lapses_ms = now_s * 1000 + now_us // 1000 + 400
    client.zadd(f"{store.prefix}near:leases", {"gone-quiet:1:x": lapses_ms})
    started = time.monotonic()
    store.drop_copies()
    waited = time.monotonic() - started
    assert 0.35 <= waited < near.WAIT_MAX_S
    store.drop_copies()
    assert client.zscore(f"{store.prefix}near:leases", "gone-quiet:1:x") is None  # cleared


@pytest.mark.django_db(transaction=True)
def test_no_write_leaves_a_stale_copy_in_any_gunicorn_worker(site, tmp_path_factory):
    """Two workers keep copies of the post page hot under a stream of readers;
    after each write returns, every request through either worker shows it."""
    app = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache", workers=2)
    stop = threading.Event()
    labels: list[str] = []

    def read_forever() -> None:
        while not stop.is_set():
            _, headers, _ = app.get(PAGES["post"])
            labels.append(headers.get("x-page-cache", ""))

    readers = [threading.Thread(target=read_forever) for _ in range(3)]
    try:
        for t in readers:
            t.start()
        wait_for(lambda: labels.count("hit") >= 50, seconds=30)
        before = gets_served()
        hits_before = labels.count("hit")
        wait_for(lambda: labels.count("hit") >= hits_before + 100, seconds=30)
        # Each worker read the page from Redis at most a few times (a lapse under
        # load drops its copies); most of these hundred hits were its copies.
        assert gets_served() - before < 50
        for i in range(8):
            services.post_update(post=site.post, title=f"Edit number {i}")
            for _ in range(6):
                status, headers, body = app.get(PAGES["post"])
                assert status == 200
                assert f"Edit number {i}" in body, (i, headers.get("x-page-cache"))
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
        app.close()
    assert "hit" in labels[-20:]


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_holds_a_write_up_no_longer_than_its_lease(site, tmp_path_factory):
    """A worker killed outright cannot give its lease up: the next write waits
    for that lease to lapse (its subscription went with it), then goes on, and
    the page is fresh through the worker gunicorn starts in its place."""
    app = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache", workers=1)
    try:
        for _ in range(3):
            app.get(PAGES["post"])
        leases = f"{get_store().prefix}near:leases"
        client = get_store().client
        wait_for(lambda: any(f":{pid}:".encode() in m for m in client.zrange(leases, 0, -1)
                             for pid in worker_pids(app)))  # fmt: skip
        (worker,) = worker_pids(app)
        os.kill(worker, signal.SIGKILL)
        started = time.monotonic()
        services.post_update(post=site.post, title="Written after a worker was killed")
        waited = time.monotonic() - started
        assert waited < near.LEASE_S + 0.5
        wait_for(lambda: app.get(PAGES["post"])[0] == 200, seconds=30)
        assert "Written after a worker was killed" in app.get(PAGES["post"])[2]
    finally:
        app.close()


def worker_pids(app: AppServer) -> list[int]:
    children = Path(f"/proc/{app.proc.pid}/task/{app.proc.pid}/children").read_text()
    return [int(pid) for pid in children.split()]
