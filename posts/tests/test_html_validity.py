"""Every reader page and error page passes the W3C Nu HTML checker with zero errors.

The pages are rendered with the test client, written to files and checked in one
run of vnu (one JVM start). Feeds and the sitemap are XML, tested in test_feeds.py.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.utils import timezone
from django.views.defaults import server_error
from PIL import Image

from core import limits
from posts.templatetags.blog import iso_datetime
from posts.tests import nu_checker
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

BODY = """Why an index helps, measured.

## Timings

| Query | Before | After |
| :--- | ---: | :---: |
| by author | 120 ms | 3 ms |
| by tag | 95 ms | 2 ms |

```python
def public(self):
    return self.filter(status="published")
```

Some `inline code`, a [link](https://example.com/ "Example") and an image:
![A chart of query times](https://example.com/chart.png)

<details><summary>Raw numbers</summary>

1. first
2. second

</details>

A footnote.[^1]

[^1]: Measured on a laptop.
"""


def png(name: str, size: tuple[int, int] = (16, 9)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 128, 128)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture
def site(db, settings, media_root):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    ada = AuthorFactory(
        handle="ada", display_name="Ada Lovelace", avatar=png("ada.png"), avatar_alt="Ada"
    )
    grace = AuthorFactory(handle="grace", display_name="Grace Hopper")
    linus = AuthorFactory(handle="linus", display_name="Linus Example", tagline="")
    tags = [
        TagFactory(name="PostgreSQL", slug="postgresql"),
        TagFactory(name="Django", slug="django"),
        TagFactory(name="Performance", slug="performance"),
    ]
    series = SeriesFactory(title="Indexes in practice", slug="indexes-in-practice")
    now = timezone.now()
    post = PostFactory(
        title="Understanding PostgreSQL indexes",
        slug="understanding-postgresql-indexes",
        body=BODY,
        cover_image=png("cover.png", (40, 21)),
        cover_alt="A B-tree drawn on a whiteboard",
        authors=[ada, grace, linus],
        tags=tags,
        series=series,
        series_order=1,
        published_at=now - timedelta(days=2, microseconds=123456),
    )
    # Edited after publication, so the "Updated" <time> shows too.
    post.save()
    PostFactory(
        title="Covering indexes for listings",
        authors=[grace, ada],
        tags=tags[:2],
        series=series,
        series_order=2,
        published_at=now - timedelta(days=1),
    )
    for n in range(12):  # a second page on the home page
        PostFactory(
            authors=[(ada, grace, linus)[n % 3]],
            tags=[tags[n % 3]],
            published_at=now - timedelta(days=3 + n),
        )
    scheduled = PostFactory(title="Indexes next week", authors=[ada], scheduled=True)
    return {"post": post, "scheduled": scheduled, "tag": tags[0], "author": ada, "series": series}


def render(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_every_page_passes_the_nu_html_checker(client, site, tmp_path):
    problem = nu_checker.missing_tools()
    assert problem is None, problem  # `make test` installs both: fail, never skip
    pages = {
        "home": render(client, "/"),
        "home, page 2": render(client, "/?page=2"),
        "post": render(client, site["post"].get_absolute_url()),
        "tag": render(client, site["tag"].get_absolute_url()),
        "author": render(client, site["author"].get_absolute_url()),
        "series": render(client, site["series"].get_absolute_url()),
        "search": render(client, "/search/?q=indexes"),
        "search, no results": render(client, "/search/?q=zzzzqqq"),
        "search, empty": render(client, "/search/"),
        "tag index": render(client, "/tags/"),
        "author index": render(client, "/authors/"),
        "404": render(client, "/no-such-page/", 404),
        "500": server_error(RequestFactory().get("/")).content.decode(),
        "search, query too long": render(client, "/search/?q=" + "a" * 201, 400),
        "429": limits.too_many_requests(
            RequestFactory().get("/search/"), retry_after=30
        ).content.decode(),
        "413": limits.payload_too_large(RequestFactory().post("/admin/login/")).content.decode(),
        "sign-in locked": limits.locked_out(
            RequestFactory().post("/admin/login/")
        ).content.decode(),
    }
    assert "Understanding PostgreSQL indexes" in pages["search"]
    assert 'class="card__cover"' in pages["home"] and "<table>" in pages["post"]
    client.force_login(site["author"].user)  # on the scheduled post's byline
    pages["scheduled post preview"] = render(client, site["scheduled"].get_absolute_url())
    assert "Preview — not public" in pages["scheduled post preview"]
    pages["two-factor enrolment"] = render(client, "/account/two-factor/")

    files = {}
    for n, (name, html) in enumerate(pages.items()):
        files[name] = tmp_path / f"page-{n}.html"
        files[name].write_text(html, encoding="utf-8")
    errors = nu_checker.check(files)

    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)


def test_the_checker_reports_an_invalid_page_with_its_name(tmp_path):
    """The test above can fail: a known-bad page gives errors naming the page."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html lang="en"><head><title>x</title></head><body>'
        '<time datetime="2026-12-01T15:42:00.909829+00:00">Dec 1</time></body></html>'
    )

    errors = nu_checker.check({"bad page": bad})

    assert len(errors) == 1
    assert errors[0].startswith("bad page: line 1: Bad value “2026-12-01T15:42:00.909829+00:00”")


def test_datetime_attributes_are_to_the_second_with_an_offset(settings):
    settings.TIME_ZONE = "Europe/Paris"
    with timezone.override("Europe/Paris"):
        value = iso_datetime(datetime(2026, 12, 1, 15, 42, 0, 909829, tzinfo=UTC))

    assert value == "2026-12-01T16:42:00+01:00"
    assert iso_datetime(None) == ""
