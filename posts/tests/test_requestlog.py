"""core.requestlog: one structured line per request, from Django and from WSGI-level cache hits."""

import io
import json
import logging
import re
import runpy
from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory
from posts.tests.factories import PostFactory
from posts.tests.test_cache_wsgi import wsgi_get

pytestmark = pytest.mark.django_db(transaction=True)

FIELDS = {
    "time", "level", "logger", "message", "request_id", "method", "path",
    "status", "duration_ms", "cache", "bytes", "user_id",
}  # fmt: skip
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def log_lines():
    """The request log's real handler and formatter, writing to a buffer instead of stdout."""
    # pytest adds capture handlers of its own beside the one settings.LOGGING made.
    (handler,) = [
        h for h in logging.getLogger("blogsite.request").handlers
        if type(h) is logging.StreamHandler
    ]  # fmt: skip
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield lines
    handler.setStream(previous)


@pytest.fixture
def post():
    return PostFactory(title="Logged", slug="logged")


def test_a_django_response_logs_one_json_line_with_every_field(client, post, log_lines):
    response = client.get("/posts/logged/", HTTP_X_REQUEST_ID="abc-123")
    (line,) = log_lines()
    assert set(line) == FIELDS
    assert line["logger"] == "blogsite.request"
    assert line["level"] == "INFO"
    assert line["request_id"] == "abc-123"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/posts/logged/", 200)
    assert line["cache"] == "miss"
    assert line["bytes"] == len(response.content) > 0
    assert line["user_id"] is None
    assert 0 < line["duration_ms"] < 10_000
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", line["time"])


def test_wsgi_level_hits_log_the_same_line_once(post, log_lines):
    _, miss_headers, _ = wsgi_get("/posts/logged/")
    _, hit_headers, body = wsgi_get("/posts/logged/", HTTP_X_REQUEST_ID="hit.id_1")
    miss, hit = log_lines()  # exactly two requests, exactly two lines
    assert set(hit) == set(miss) == FIELDS
    assert (miss["cache"], hit["cache"]) == ("miss", "hit")
    assert hit["status"] == 200 and hit["path"] == "/posts/logged/"
    assert hit["bytes"] == len(body)
    assert hit["request_id"] == hit_headers["X-Request-ID"] == "hit.id_1"
    assert miss["request_id"] == miss_headers["X-Request-ID"]


def test_a_wsgi_304_hit_logs_its_status_and_no_bytes(post, log_lines):
    _, headers, _ = wsgi_get("/posts/logged/")
    status, _, _ = wsgi_get("/posts/logged/", HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status == "304 Not Modified"
    hit = log_lines()[-1]
    assert (hit["status"], hit["cache"], hit["bytes"]) == (304, "hit", 0)


def test_a_request_id_is_generated_when_none_is_given(client, post, log_lines):
    response = client.get("/posts/logged/")
    _, hit_headers, _ = wsgi_get("/posts/logged/")
    miss, hit = log_lines()
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert miss["request_id"] == response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", hit_headers["X-Request-ID"])
    assert hit["request_id"] == hit_headers["X-Request-ID"] != miss["request_id"]


@pytest.mark.parametrize(
    "given",
    ["x" * 65, "has space", 'quote"d', "new\nline", "ünïcode", "semi;colon"],
)
def test_an_invalid_request_id_is_replaced(client, post, log_lines, given):
    response = client.get("/posts/logged/", HTTP_X_REQUEST_ID=given)
    _, hit_headers, _ = wsgi_get("/posts/logged/", HTTP_X_REQUEST_ID=given)
    for rid in (response["X-Request-ID"], hit_headers["X-Request-ID"]):
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
    assert [line["request_id"] for line in log_lines()] == [
        response["X-Request-ID"],
        hit_headers["X-Request-ID"],
    ]


def test_a_64_character_request_id_is_kept(client, post, log_lines):
    given = "A1._-" * 12 + "abcd"
    assert client.get("/posts/logged/", HTTP_X_REQUEST_ID=given)["X-Request-ID"] == given
    assert log_lines()[0]["request_id"] == given


def test_the_logged_in_users_id_is_logged(client, post, log_lines):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    response = client.get("/posts/logged/")
    assert response.status_code == 200
    assert "X-Page-Cache" not in response  # never cached for someone logged in
    (line,) = log_lines()
    assert line["user_id"] == user.pk
    assert line["cache"] == "skip"


def test_errors_and_uncached_paths_are_logged_too(client, log_lines):
    assert client.get("/posts/no-such-post/").status_code == 404
    assert client.post("/search/").status_code == 405
    not_found, not_allowed = log_lines()
    assert (not_found["status"], not_found["cache"]) == (404, "skip")
    assert (not_allowed["method"], not_allowed["status"]) == ("POST", 405)


def test_request_log_level_can_silence_the_line(client, post, log_lines):
    logger = logging.getLogger("blogsite.request")
    previous = logger.level
    logger.setLevel(logging.WARNING)
    try:
        client.get("/posts/logged/")
        wsgi_get("/posts/logged/")
    finally:
        logger.setLevel(previous)
    assert log_lines() == []


def test_gunicorn_access_log_is_off_unless_asked_for(monkeypatch):
    monkeypatch.delenv("GUNICORN_ACCESSLOG", raising=False)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["accesslog"] is None
    monkeypatch.setenv("GUNICORN_ACCESSLOG", "-")
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["accesslog"] == "-"
