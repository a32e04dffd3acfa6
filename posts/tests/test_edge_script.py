"""`make edge` (scripts/edge.sh): gunicorn with Varnish in front, purged by tag,
both stopped together."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posts.tests.edge import (
    ROOT,
    AdminSession,
    database_url,
    editor_for_other_processes,
    free_port,
    request,
)
from posts.tests.factories import PostFactory
from posts.tests.test_cache import admin_post_data

pytestmark = pytest.mark.django_db(transaction=True)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_make_edge_serves_through_varnish_purges_it_and_stops_with_the_app(tmp_path_factory):
    post = PostFactory(title="Through the edge script", slug="scripted")
    port, edge_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "FILE_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "cache"),
        "PORT": str(port),
        "EDGE_PORT": str(edge_port),
        "BIN": str(Path(sys.executable).parent),
        "WEB_CONCURRENCY": "1",
        "GUNICORN_ACCESSLOG": "/dev/null",
        "SECRET_KEY": "edge-script-test-not-secret-0123456789abcdefghijklmnop",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }
    env.pop("EDGE_PURGE_URLS", None)
    log = tmp_path_factory.mktemp("edge-script") / "edge.log"
    with log.open("w") as out:
        script = subprocess.Popen(
            ["scripts/edge.sh"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (listening(port) and listening(edge_port)):
            assert script.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        for _ in range(50):  # Varnish answers 503 until gunicorn's worker is up
            status, headers, body = request(edge_port, "/posts/scripted/")
            if status == 200:
                break
            time.sleep(0.1)
        assert status == 200 and "Through the edge script" in body
        assert request(edge_port, "/posts/scripted/")[1]["x-edge-cache"] == "hit"

        # gunicorn was told where Varnish is (EDGE_PURGE_URLS): an edit saved in its
        # admin is fresh on the next request through Varnish.
        editor_for_other_processes()
        status, _ = AdminSession(f"http://127.0.0.1:{port}", "editor").post(
            f"/admin/posts/post/{post.pk}/change/",
            admin_post_data(post, title="Edited behind the edge"),
        )
        assert status == 200
        status, headers, body = request(edge_port, "/posts/scripted/")
        assert "Edited behind the edge" in body and "Through the edge script" not in body
        assert headers["x-edge-cache"] == "miss"
    finally:
        script.send_signal(signal.SIGINT)
        script.wait(timeout=30)
    deadline = time.monotonic() + 10
    while listening(port) or listening(edge_port):
        assert time.monotonic() < deadline, "gunicorn or Varnish outlived the script"
        time.sleep(0.1)
