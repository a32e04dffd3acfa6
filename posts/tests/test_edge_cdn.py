"""Fastly and Cloudflare purges (core/cache/edge.py), against a local HTTP server
of the test's own that records every call and answers as the real API would."""

import json
import logging
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from core.cache import edge
from posts.tests.factories import PostFactory


class RecordingAPI:
    """Answers POSTs like Fastly/Cloudflare; `script` gives (status, body, delay) in turn."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.script: list[tuple[int, dict, float]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                api.calls.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(raw) if raw else None,
                    }
                )
                status, body, delay = (
                    api.script.pop(0) if api.script else (200, {"success": True}, 0)
                )
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def api():
    server = RecordingAPI()
    yield server
    server.close()


@pytest.fixture
def fastly(api, settings):
    settings.FASTLY_SERVICE_ID = "svc123"
    settings.FASTLY_API_TOKEN = "fastly-token"
    settings.FASTLY_API_URL = api.url
    return api


@pytest.fixture
def cloudflare(api, settings):
    settings.CLOUDFLARE_ZONE_ID = "zone9"
    settings.CLOUDFLARE_API_TOKEN = "cf-token"
    settings.CLOUDFLARE_API_URL = api.url + "/client/v4"
    return api


def test_fastly_purges_surrogate_keys_in_batches_of_256(fastly):
    tags = {f"p{n}" for n in range(300)}
    assert edge.purge(tags) == 1
    assert [c["path"] for c in fastly.calls] == ["/service/svc123/purge"] * 2
    sent = [c["body"]["surrogate_keys"] for c in fastly.calls]
    assert [len(b) for b in sent] == [256, 44]
    assert set(sent[0] + sent[1]) == tags
    assert fastly.calls[0]["headers"]["Fastly-Key"] == "fastly-token"
    assert fastly.calls[0]["headers"]["Content-Type"] == "application/json"


def test_fastly_purge_everything_uses_purge_all(fastly):
    assert edge.purge_everything() == 1
    assert [c["path"] for c in fastly.calls] == ["/service/svc123/purge_all"]


def test_cloudflare_purges_cache_tags_within_its_per_request_limit(cloudflare, settings):
    settings.CLOUDFLARE_TAGS_PER_REQUEST = 30
    tags = {f"t{n}" for n in range(70)} | {"posts"}
    assert edge.purge(tags) == 1
    assert [c["path"] for c in cloudflare.calls] == ["/client/v4/zones/zone9/purge_cache"] * 3
    sent = [c["body"]["tags"] for c in cloudflare.calls]
    assert [len(b) for b in sent] == [30, 30, 11]
    assert {t for batch in sent for t in batch} == tags
    assert cloudflare.calls[0]["headers"]["Authorization"] == "Bearer cf-token"


def test_cloudflare_purge_everything(cloudflare):
    assert edge.purge_everything() == 1
    assert cloudflare.calls[0]["body"] == {"purge_everything": True}


@pytest.mark.django_db(transaction=True)
def test_a_write_purges_its_tags_at_every_cdn_on_commit(fastly, settings):
    cloudflare = RecordingAPI()
    try:
        settings.CLOUDFLARE_ZONE_ID = "zone9"
        settings.CLOUDFLARE_API_TOKEN = "cf-token"
        settings.CLOUDFLARE_API_URL = cloudflare.url
        post = PostFactory(title="Edge bound")
        fastly.calls.clear()
        cloudflare.calls.clear()
        post.title = "Edge bound, edited"
        post.save()
        assert [set(c["body"]["surrogate_keys"]) for c in fastly.calls] == [{f"p{post.pk}"}]
        assert [set(c["body"]["tags"]) for c in cloudflare.calls] == [{f"p{post.pk}"}]
        assert cloudflare.calls[0]["path"] == "/zones/zone9/purge_cache"
    finally:
        cloudflare.close()


def test_a_failed_purge_is_retried_once(cloudflare, caplog):
    cloudflare.script = [(500, {"success": False, "errors": ["busy"]}, 0)]
    with caplog.at_level(logging.WARNING, logger="core.cache.edge"):
        assert edge.purge({"p1"}) == 1
    assert len(cloudflare.calls) == 2
    assert not caplog.records


def test_an_api_that_keeps_failing_is_logged_and_never_raises(cloudflare, caplog):
    cloudflare.script = [(200, {"success": False}, 0), (403, {"success": False}, 0)]
    with caplog.at_level(logging.WARNING, logger="core.cache.edge"):
        assert edge.purge({"p1", "posts"}) == 0
    assert len(cloudflare.calls) == 2
    [record] = caplog.records
    assert "edge purge failed (cloudflare zone9) for p1 posts" in record.getMessage()
    assert "answered 403" in record.getMessage()


def test_a_slow_api_times_out_quickly(fastly, settings, caplog):
    settings.EDGE_PURGE_TIMEOUT = 0.2
    fastly.script = [(200, {}, 2.0), (200, {}, 2.0)]
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="core.cache.edge"):
        assert edge.purge({"p1"}) == 0
    assert time.monotonic() - started < 1.0
    assert "timed out" in caplog.records[0].getMessage()


def test_no_configuration_means_no_purge_requests(api, settings):
    assert settings.EDGE_PURGE_URLS == [] and not settings.FASTLY_SERVICE_ID
    assert edge.purgers() == ()
    assert edge.purge({"p1"}) == 0
    assert api.calls == []


def test_edge_purge_urls_must_be_http(settings, caplog):
    settings.EDGE_PURGE_URLS = ["file:///etc/passwd"]
    with caplog.at_level(logging.WARNING, logger="core.cache.edge"):
        assert edge.purge({"p1"}) == 0
    assert "not an http(s) URL: 'file:///etc/passwd/'" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("EDGE_PURGE_URLS", "varnish:6081", "EDGE_PURGE_URLS: expected http(s) base URLs, got"),
        ("REDIS_SENTINELS", "10.0.0.7", "REDIS_SENTINELS: expected host:port, got '10.0.0.7'"),
    ],
)
def test_malformed_edge_settings_stop_startup_with_a_message(variable, value, message):
    env = {**os.environ, variable: value, "SECRET_KEY": "x" * 50}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**env, "DJANGO_SETTINGS_MODULE": "blogsite.settings"},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert message in result.stderr.strip().splitlines()[-1]
