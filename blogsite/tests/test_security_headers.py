"""Security headers on every kind of response, cache hits included, and the
production cookie and HSTS settings an https SITE_URL switches on."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from wsgiref.util import setup_testing_defaults

import pytest

from blogsite.wsgi import application
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

ROOT = Path(__file__).resolve().parents[2]
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def assert_secure_headers(headers, where: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (where, name)
    csp = headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["script-src"] == "'self'", where
    assert directives["style-src"] == "'self'", where
    assert directives["frame-ancestors"] == "'none'", where
    assert directives["object-src"] == "'none'", where
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, where


@pytest.fixture
def site(db):
    author = AuthorFactory(handle="ada")
    tag = TagFactory(slug="django")
    post = PostFactory(slug="headers", authors=[author], tags=[tag])
    return {"post": post, "tag": tag, "author": author}


@pytest.mark.parametrize(
    "path,status",
    [
        ("/", 200),
        ("/posts/headers/", 200),
        ("/tags/django/", 200),
        ("/authors/ada/", 200),
        ("/search/?q=headers", 200),
        ("/search/?q=" + "x" * 201, 400),
        ("/no-such-page/", 404),
        ("/admin/login/", 200),
        ("/admin/", 302),
    ],
)
def test_every_kind_of_page_carries_the_security_headers(client, site, path, status):
    response = client.get(path)

    assert response.status_code == status
    assert_secure_headers(response, path)


@pytest.mark.django_db(transaction=True)  # the WSGI handler closes connections per request
def test_a_cache_hit_from_the_wsgi_layer_carries_the_stored_security_headers(site):
    def wsgi_get(path: str) -> dict:
        environ: dict = {}
        setup_testing_defaults(environ)
        environ.update(PATH_INFO=path, REQUEST_METHOD="GET", QUERY_STRING="")
        captured = {}
        body = application(environ, lambda s, h, e=None: captured.update(headers=dict(h)))
        b"".join(body)
        return captured["headers"]

    assert wsgi_get("/posts/headers/")["X-Page-Cache"] == "miss"
    hit = wsgi_get("/posts/headers/")

    assert hit["X-Page-Cache"] == "hit"
    assert_secure_headers(hit, "WSGI hit")


PRODUCTION_PROBE = """
import json
from django.conf import settings
from django.test import Client
response = Client().get("/admin/login/", secure=True, headers={"host": "blog.example.com"})
cookie = response.cookies[settings.CSRF_COOKIE_NAME]
print(json.dumps({
    "status": response.status_code,
    "hsts": response.headers.get("Strict-Transport-Security"),
    "cookie": [cookie.key, bool(cookie["secure"]), bool(cookie["httponly"]), cookie["samesite"]],
    "session": [settings.SESSION_COOKIE_NAME, settings.SESSION_COOKIE_SECURE,
                settings.SESSION_COOKIE_HTTPONLY, settings.SESSION_COOKIE_SAMESITE],
    "plain_http": Client().get("/admin/login/", headers={"host": "blog.example.com"}).status_code,
}))
"""


def run_with_production_settings(site_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    env.update(
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="blog.example.com",
        SITE_URL=site_url,
        PAGE_CACHE_ENABLED="false",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", PRODUCTION_PROBE],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_https_site_sends_hsts_and_secure_host_only_cookies():
    probe = run_with_production_settings("https://blog.example.com")

    assert probe["status"] == 200
    assert probe["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert probe["cookie"] == ["__Host-csrftoken", True, True, "Lax"]
    assert probe["session"] == ["__Host-sessionid", True, True, "Lax"]
    assert probe["plain_http"] == 301  # to https


def test_a_plain_http_site_sends_no_hsts_and_plain_cookies():
    probe = run_with_production_settings("http://blog.example.com")

    assert probe["hsts"] is None
    assert probe["cookie"] == ["csrftoken", False, True, "Lax"]
    assert probe["plain_http"] == 200
