"""The WSGI fast path that gunicorn runs (blogsite.wsgi.application)."""

from wsgiref.util import setup_testing_defaults

import pytest

from blogsite.wsgi import application
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def wsgi_get(path: str, method: str = "GET", **extra) -> tuple[str, dict, bytes]:
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO=path, REQUEST_METHOD=method, QUERY_STRING="", **extra)
    captured: dict = {}

    def start_response(status, headers, exc_info=None):
        captured["status"], captured["headers"] = status, dict(headers)

    result = application(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        getattr(result, "close", lambda: None)()
    return captured["status"], captured["headers"], body


@pytest.fixture
def post():
    return PostFactory(title="Served from the edge", slug="edge")


def test_second_request_is_answered_by_the_wsgi_layer(post):
    status, headers, body = wsgi_get("/posts/edge/")
    assert status == "200 OK" and headers["X-Page-Cache"] == "miss"
    status, hit_headers, hit_body = wsgi_get("/posts/edge/")
    assert status == "200 OK"
    assert hit_headers["X-Page-Cache"] == "hit"
    assert hit_body == body
    assert hit_headers["Content-Length"] == str(len(body))
    assert hit_headers["Content-Security-Policy"] == headers["Content-Security-Policy"]
    assert "Served from the edge" in hit_body.decode()


def test_wsgi_hits_answer_conditional_gets_with_304(post):
    _, headers, _ = wsgi_get("/posts/edge/")
    status, headers304, body = wsgi_get("/posts/edge/", HTTP_IF_NONE_MATCH=headers["ETag"])
    assert status == "304 Not Modified"
    assert body == b""
    assert headers304["ETag"] == headers["ETag"]


def test_wsgi_head_has_headers_but_no_body(post):
    wsgi_get("/posts/edge/")
    status, headers, body = wsgi_get("/posts/edge/", method="HEAD")
    assert status == "200 OK" and headers["X-Page-Cache"] == "hit"
    assert body == b""


def test_wsgi_layer_lets_session_cookies_through_to_django(post):
    wsgi_get("/posts/edge/")
    _, headers, body = wsgi_get("/posts/edge/", HTTP_COOKIE="sessionid=abc")
    assert "X-Page-Cache" not in headers
    assert "Served from the edge" in body.decode()


def test_wsgi_layer_sees_edits_immediately(post):
    wsgi_get("/")
    assert wsgi_get("/")[1]["X-Page-Cache"] == "hit"
    post.title = "Edited at the edge"
    post.save()
    _, headers, body = wsgi_get("/")
    assert headers["X-Page-Cache"] == "miss"
    assert "Edited at the edge" in body.decode()


def test_wsgi_layer_leaves_bad_hosts_to_django(post):
    wsgi_get("/posts/edge/")
    status, headers, _ = wsgi_get("/posts/edge/", HTTP_HOST="evil.example")
    assert status.startswith("400")
    assert "X-Page-Cache" not in headers


def test_wsgi_layer_leaves_the_https_redirect_to_django(post, settings):
    wsgi_get("/posts/edge/")
    settings.SECURE_SSL_REDIRECT = True
    # Plain HTTP goes on to Django (whose SecurityMiddleware redirects it).
    _, headers, _ = wsgi_get("/posts/edge/")
    assert "X-Page-Cache" not in headers
    status, headers, _ = wsgi_get("/posts/edge/", HTTP_X_FORWARDED_PROTO="https")
    assert status == "200 OK" and headers["X-Page-Cache"] == "hit"


def test_an_unreadable_stored_entry_is_treated_as_a_miss(post):
    from core.cache import page
    from core.cache.store import get_store

    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO="/posts/edge/", QUERY_STRING="")
    get_store().set(page.key(environ), b"not a pickle", tags={"posts"}, ttl=60, token=10**9)
    status, _, body = wsgi_get("/posts/edge/")
    assert status == "200 OK"
    assert "Served from the edge" in body.decode()


def test_wsgi_hits_send_each_header_once(post):
    environ: dict = {}
    setup_testing_defaults(environ)
    environ.update(PATH_INFO="/posts/edge/", QUERY_STRING="")
    sent: list = []
    for _ in range(2):
        sent.clear()
        b"".join(application(dict(environ), lambda status, headers: sent.extend(headers)))
    names = [name.lower() for name, _ in sent]
    assert ("x-page-cache", "hit") in [(n.lower(), v) for n, v in sent]
    assert len(names) == len(set(names)), names
