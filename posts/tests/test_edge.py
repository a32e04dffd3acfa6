"""The page cache through a real Varnish (deploy/varnish/default.vcl) in front of
gunicorn: every edit is fresh on the very next request through the edge, because
the write purges its tags there (core/cache/edge.py) on commit.

Writes happen in this process, through the ORM, as in test_cache.py; the edge
purge goes from here to Varnish, as it would from any app server.
"""

import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from core.cache import edge
from posts import services
from posts.models import Authorship, Post, PostTag
from posts.tests.edge import AppServer, Varnish, free_port, request
from posts.tests.factories import PostFactory
from posts.tests.test_cache import PAGES
from posts.tests.test_cache import site as site_fixture

site = site_fixture  # the same authors, tags, series and posts as test_cache.py

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def app(django_db_setup, tmp_path_factory):
    server = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache")
    yield server
    server.close()


@pytest.fixture(scope="module")
def varnish(app):
    node = Varnish([app.address])
    yield node
    node.close()


@pytest.fixture
def proxy(varnish, settings):
    """Varnish, emptied, with this process's writes purging it."""
    settings.EDGE_PURGE_URLS = [varnish.url]
    assert edge.purge_everything() == 1
    return varnish


def warm(proxy: Varnish, *paths: str) -> None:
    """Fetch each page through the edge until Varnish answers it from its cache."""
    for path in paths:
        path = PAGES.get(path, path)
        status, _, _ = proxy.get(path)
        assert status == 200, path
        status, headers, _ = proxy.get(path)
        assert (status, headers["x-edge-cache"]) == (200, "hit"), path


def text(proxy: Varnish, path: str) -> str:
    status, _, body = proxy.get(PAGES.get(path, path))
    assert status == 200, (path, status)
    return body


def test_a_cached_page_is_a_varnish_hit_with_the_apps_headers(site, proxy):
    status, miss, body = proxy.get("/posts/original/")
    assert (status, miss["x-edge-cache"]) == (200, "miss")
    status, hit, hit_body = proxy.get("/posts/original/")
    assert (status, hit["x-edge-cache"]) == (200, "hit")
    assert hit_body == body and "Original headline" in body
    assert hit["etag"] == miss["etag"] and hit["last-modified"] == miss["last-modified"]
    # Browsers still revalidate every time; only the edge keeps the page.
    assert hit["cache-control"].startswith("public, max-age=0, s-maxage=")
    assert "cache-tag" not in hit and "surrogate-key" not in hit and "xkey" not in hit


def test_editing_a_post_title_is_fresh_on_the_next_request_through_the_edge(site, proxy):
    pages = ["home", "post", "tag", "author", "series", "rss", "atom", "json", "tag_feed"]
    warm(proxy, *pages)
    site.post.title = "Edited headline"
    site.post.save()
    for name in pages:
        body = text(proxy, name)
        assert "Edited headline" in body, name
        assert "Original headline" not in body, name


def test_changing_a_slug_refreshes_links_and_sitemap_at_the_edge(site, proxy):
    warm(proxy, "home", "sitemap", "tag")
    services.post_update(post=site.post, slug="renamed")  # keeps the old slug's 301
    for name in ("home", "sitemap", "tag"):
        body = text(proxy, name)
        assert "/posts/renamed/" in body, name
        assert "/posts/original/" not in body, name
    assert proxy.get("/posts/original/")[0] == 301


def test_unpublishing_removes_the_post_from_the_edge(site, proxy):
    warm(proxy, "home", "post", "tag", "rss")
    site.post.status = Post.Status.DRAFT
    site.post.save()
    for name in ("home", "tag", "rss"):
        assert "Original headline" not in text(proxy, name), name
    assert proxy.get(PAGES["post"])[0] == 404


def test_deleting_a_post_removes_it_and_its_neighbours_links_at_the_edge(site, proxy):
    warm(proxy, "home", "post", "/posts/older/")
    assert "Original headline" in text(proxy, "/posts/older/")
    site.post.delete()
    assert "Original headline" not in text(proxy, "home")
    assert "Original headline" not in text(proxy, "/posts/older/")
    assert proxy.get(PAGES["post"])[0] == 404


def test_renaming_a_tag_refreshes_every_page_showing_it_at_the_edge(site, proxy):
    warm(proxy, "home", "post", "tag", "tags", "rss")
    site.tag.name = "Ponyland"
    site.tag.save()
    for name in ("home", "post", "tag", "tags", "rss"):
        body = text(proxy, name)
        assert "Ponyland" in body and "Djangonaut" not in body, name


def test_renaming_an_author_refreshes_bylines_at_the_edge(site, proxy):
    warm(proxy, "home", "post", "author", "authors", "rss")
    site.ada.display_name = "Ada Renamed"
    site.ada.save()
    for name in ("home", "post", "author", "authors", "rss"):
        body = text(proxy, name)
        assert "Ada Renamed" in body and "Ada Quill" not in body, name


def test_through_row_changes_are_fresh_at_the_edge(site, proxy):
    warm(proxy, "home", "post", "/tags/redistribution/", "/authors/bob/")
    row = Authorship.objects.create(post=site.post, author=site.bob, position=1)
    PostTag.objects.create(post=site.post, tag=site.tag2, position=1)
    assert "Bob Marlin" in text(proxy, "post")
    assert "Bob Marlin" in text(proxy, "home")
    assert "Original headline" in text(proxy, "/tags/redistribution/")
    assert "Original headline" in text(proxy, "/authors/bob/")
    row.delete()
    PostTag.objects.get(post=site.post, tag=site.tag2).delete()
    assert "Bob Marlin" not in text(proxy, "post")
    assert "Original headline" not in text(proxy, "/tags/redistribution/")


def test_a_scheduled_post_is_live_at_the_edge_on_time(site, proxy):
    # Real time: Varnish and gunicorn run on the real clock.
    live_at = timezone.now() + timedelta(seconds=4)
    PostFactory(title="Future piece", published_at=live_at)
    warm(proxy, "home")
    _, headers, body = proxy.get("/")
    assert "Future piece" not in body
    assert int(headers["cache-control"].split("s-maxage=")[1].split(",")[0]) <= 5
    while timezone.now() < live_at:
        time.sleep(0.1)
    deadline = live_at + timedelta(seconds=2)  # s-maxage is whole seconds, rounded up
    while "Future piece" not in text(proxy, "home"):
        assert timezone.now() < deadline, "the edge kept the page past its s-maxage"
        time.sleep(0.05)
    assert "Future piece" in text(proxy, "rss")


def test_analytics_cookies_are_stripped_and_session_cookies_pass(site, proxy):
    warm(proxy, "post")
    _, headers, _ = proxy.get(PAGES["post"], headers={"Cookie": "_ga=GA1.2.3; theme=dark"})
    assert headers["x-edge-cache"] == "hit"
    for cookie in ("sessionid=abc", "csrftoken=xyz", "_ga=1; sessionid=abc"):
        status, headers, _ = proxy.get(PAGES["post"], headers={"Cookie": cookie})
        assert (status, headers["x-edge-cache"]) == (200, "pass"), cookie
        assert "x-page-cache" not in headers, cookie  # not the app's cache either


def test_the_edge_answers_conditional_requests_and_head(site, proxy):
    warm(proxy, "post")
    _, headers, _ = proxy.get(PAGES["post"])
    status, h304, body = proxy.get(PAGES["post"], headers={"If-None-Match": headers["etag"]})
    assert (status, body, h304["etag"]) == (304, "", headers["etag"])
    status, _, _ = proxy.get(PAGES["post"], headers={"If-Modified-Since": headers["last-modified"]})
    assert status == 304
    status, head, body = proxy.get(PAGES["post"], method="HEAD")
    assert (status, body, head["x-edge-cache"]) == (200, "", "hit")
    assert head["content-length"] == headers["content-length"]


def test_urls_are_normalised_into_one_cache_entry(site, proxy):
    assert proxy.get("/search/?q=cache&page=1")[0] == 200
    status, headers, _ = proxy.get("/search/?page=1&utm_source=mail&q=cache")
    assert status == 200
    assert headers["x-edge-cache"] in {"hit", "pass"}  # one key, whatever search sends
    warm(proxy, "/tags/djangonaut/?")
    assert proxy.get("/tags/djangonaut/?fbclid=abc")[1]["x-edge-cache"] == "hit"


def test_only_trusted_addresses_may_purge(site, proxy):
    warm(proxy, "post")
    tag = f"p{site.post.pk}"
    # 127.0.0.2 is this host too, but not in the VCL's purgers ACL.
    status, _, body = request(proxy.port, "/", "PURGE", {"xkey-purge": tag}, source="127.0.0.2")
    assert status == 403, body
    assert proxy.get(PAGES["post"])[1]["x-edge-cache"] == "hit"
    assert request(proxy.port, "/", "PURGE")[0] == 400
    status, _, body = request(proxy.port, "/", "PURGE", {"xkey-purge": tag})
    assert (status, body.strip()) == (200, "Purged 1 objects")
    assert proxy.get(PAGES["post"])[1]["x-edge-cache"] == "miss"


def test_admin_and_posts_are_never_cached_at_the_edge(site, proxy):
    for _ in range(2):
        status, headers, _ = proxy.get("/admin/login/")
        assert (status, headers["x-edge-cache"]) == (200, "pass")
    status, headers, _ = proxy.get("/search/?q=x", method="POST")
    assert headers["x-edge-cache"] == "pass", status


def test_an_undelivered_purge_is_logged_and_the_page_lives_at_most_s_maxage(
    site, settings, caplog, tmp_path_factory
):
    app = AppServer(cache_dir=tmp_path_factory.getbasetemp() / "cache", workers=1, CACHE_TTL="3")
    node = Varnish([app.address])
    try:
        settings.EDGE_PURGE_URLS = [f"http://127.0.0.1:{free_port()}"]  # nothing listens
        warm(node, "post")
        _, headers, _ = node.get(PAGES["post"])
        assert "s-maxage=3," in headers["cache-control"]
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="core.cache.edge"):
            site.post.title = "Edited headline"
            site.post.save()
        assert time.monotonic() - started < 1.0  # the write is not held up
        failures = [r.getMessage() for r in caplog.records if r.name == "core.cache.edge"]
        assert len(failures) == 1 and "edge purge failed" in failures[0]
        assert f"p{site.post.pk}" in failures[0]
        assert "Original headline" in text(node, "post")  # the purge never arrived
        deadline = started + 3 + 1
        while "Original headline" in text(node, "post"):
            assert time.monotonic() < deadline, "the edge kept the page past its s-maxage"
            time.sleep(0.1)
        assert "Edited headline" in text(node, "post")
    finally:
        node.close()
        app.close()
