"""Render every reader page type against fixed data and save normalised HTML, so a
change of template engine (or of any template) can be diffed page by page.

Run it as a pytest module (it needs the test database), once before and once after:

    RENDER_SNAPSHOT_DIR=/tmp/snap-before scripts/with-services.sh \
        .venv/bin/pytest scripts/render_snapshot.py -q -p no:cacheprovider
    diff -r /tmp/snap-before /tmp/snap-after

Whitespace between tags is dropped and other runs of whitespace become one space;
per-request secrets (CSRF token, TOTP key) are replaced by placeholders. Django
escapes ' and " as &#x27; and &quot;, Jinja2 (MarkupSafe) as &#39; and &#34;: the
same characters, so one spelling is kept (set RENDER_SNAPSHOT_ENTITIES=keep to see them). Each tag
goes on its own line so a diff points at the element that changed.
"""

from __future__ import annotations

import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import factory.random
import pytest
import time_machine
from django.test import RequestFactory
from django.views.defaults import server_error

from core import limits
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory
from posts.tests.test_html_validity import site  # noqa: F401 - the shared page data

FROZEN_AT = datetime(2026, 6, 15, 9, 30, 12, 345678, tzinfo=UTC)
SECRETS = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'), r"\1CSRF"),
    (re.compile(r'(class="enrol-secret">)[A-Z2-7=]+'), r"\1SECRET"),
    (re.compile(r'otpauth://[^"]+'), "otpauth://SECRET"),
]


@pytest.fixture(autouse=True)
def _fixed_clock_and_randomness():
    """Autouse fixtures run first: the shared `site` data is made at a fixed time."""
    factory.random.reseed_random(1234)
    with time_machine.travel(FROZEN_AT, tick=False):
        yield


def normalise(html: str) -> str:
    for pattern, placeholder in SECRETS:
        html = pattern.sub(placeholder, html)
    if os.environ.get("RENDER_SNAPSHOT_ENTITIES") != "keep":
        html = html.replace("&#39;", "&#x27;").replace("&#34;", "&quot;")
    html = re.sub(r">\s+<", "><", html)
    html = re.sub(r"\s+", " ", html).strip()
    return html.replace("><", ">\n<") + "\n"


def get(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_render_snapshot(client, site):  # noqa: F811 - the fixture imported above
    out = Path(
        os.environ.get("RENDER_SNAPSHOT_DIR") or Path(tempfile.gettempdir()) / "render-snapshot"
    )
    out.mkdir(parents=True, exist_ok=True)
    draft = PostFactory(title="A draft in progress", draft=True, authors=[site["author"]])
    # Text that needs escaping, on a listing, a post, a tag and an author page.
    quoted = AuthorFactory(handle="dara", display_name="Dara O'Neil", tagline='Says "hi" & <waves>')
    PostFactory(
        title='Don\'t "quote" me & <em>you</em>',
        summary="Fish & chips 'n' \"stuff\"",
        authors=[quoted, site["author"]],
        tags=[TagFactory(name="Q&A's", slug="q-and-a"), site["tag"]],
        slug="quoted",
    )
    pages = {
        "home": get(client, "/"),
        "home-page-2": get(client, "/?page=2"),
        "post": get(client, site["post"].get_absolute_url()),
        "tag-list": get(client, "/tags/"),
        "tag-detail": get(client, site["tag"].get_absolute_url()),
        "series-detail": get(client, site["series"].get_absolute_url()),
        "author-list": get(client, "/authors/"),
        "author-detail": get(client, site["author"].get_absolute_url()),
        "author-quoted": get(client, "/authors/dara/"),
        "post-quoted": get(client, "/posts/quoted/"),
        "tag-quoted": get(client, "/tags/q-and-a/"),
        "search-results": get(client, "/search/?q=indexes"),
        "search-no-results": get(client, "/search/?q=zzzzqqq"),
        "search-empty": get(client, "/search/"),
        "search-400": get(client, "/search/?q=" + "a" * 201, 400),
        "404": get(client, "/no-such-page/", 404),
        "500": server_error(RequestFactory().get("/")).content.decode(),
        "429": limits.too_many_requests(
            RequestFactory().get("/search/"), retry_after=30
        ).content.decode(),
        "413": limits.payload_too_large(RequestFactory().post("/admin/login/")).content.decode(),
        "locked-out": limits.locked_out(RequestFactory().post("/admin/login/")).content.decode(),
    }
    client.force_login(site["author"].user)
    pages["preview-draft"] = get(client, draft.get_absolute_url())
    pages["preview-scheduled"] = get(client, site["scheduled"].get_absolute_url())
    pages["two-factor-enrol"] = get(client, "/account/two-factor/")
    for name, html in pages.items():
        (out / f"{name}.html").write_text(normalise(html), encoding="utf-8")
    assert len(list(out.glob("*.html"))) >= len(pages)
