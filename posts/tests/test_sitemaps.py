from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.cache import tags as cache_tags
from posts import sitemaps
from posts.models import Post
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

SITE = "https://blog.example.com"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    # Not the test client's host: sitemap URLs must come from SITE_URL.
    settings.SITE_URL = SITE
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def get_xml(client, url: str) -> ElementTree.Element:
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/xml")
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own response


def index_locations(client) -> list[str]:
    root = get_xml(client, "/sitemap.xml")
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    return [loc.text for loc in root.findall("sm:sitemap/sm:loc", NS)]


def urlset(client, url: str) -> dict[str, str | None]:
    """{location: lastmod} of one sitemap section page."""
    root = get_xml(client, url)
    assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset"
    return {
        node.findtext("sm:loc", namespaces=NS): node.findtext("sm:lastmod", namespaces=NS)
        for node in root.findall("sm:url", NS)
    }


def all_sitemap_urls(client) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for location in index_locations(client):
        out.update(urlset(client, location.removeprefix(SITE)))
    return out


def test_index_lists_every_section_with_absolute_urls(client):
    assert index_locations(client) == [
        f"{SITE}/sitemap-pages.xml",
        f"{SITE}/sitemap-posts.xml",
        f"{SITE}/sitemap-tags.xml",
        f"{SITE}/sitemap-authors.xml",
        f"{SITE}/sitemap-series.xml",
    ]


def test_sitemap_lists_public_posts_with_lastmod_and_no_drafts_or_scheduled(client):
    first = PostFactory(slug="first", published_at=timezone.now() - timedelta(days=3))
    second = PostFactory(slug="second")
    PostFactory(slug="a-draft", draft=True)
    PostFactory(slug="a-scheduled", scheduled=True)

    posts = urlset(client, "/sitemap-posts.xml")

    assert posts == {
        f"{SITE}/posts/second/": second.updated_at.date().isoformat(),
        f"{SITE}/posts/first/": first.updated_at.date().isoformat(),
    }


def test_sitemap_covers_home_tags_authors_and_series_with_public_posts(client):
    ada, idle_author = AuthorFactory(handle="ada"), AuthorFactory(handle="idle")
    django, idle_tag = TagFactory(slug="django"), TagFactory(slug="idle-tag")
    guide, idle_series = SeriesFactory(slug="guide"), SeriesFactory(slug="idle-series")
    PostFactory(slug="live", authors=[ada], tags=[django], series=guide, series_order=1)
    # Only unpublished posts: their pages list nothing a crawler should see.
    PostFactory(
        draft=True, authors=[idle_author], tags=[idle_tag], series=idle_series, series_order=1
    )
    PostFactory(scheduled=True, authors=[idle_author], tags=[idle_tag])

    urls = all_sitemap_urls(client)

    assert set(urls) == {
        f"{SITE}/",
        f"{SITE}/posts/live/",
        f"{SITE}/tags/django/",
        f"{SITE}/authors/ada/",
        f"{SITE}/series/guide/",
    }
    # Tags and authors come from stored counts; a lastmod would mean aggregating posts.
    dated = {url for url, lastmod in urls.items() if lastmod}
    assert dated == {f"{SITE}/", f"{SITE}/posts/live/", f"{SITE}/series/guide/"}


def test_series_lastmod_is_the_newest_post_or_the_series_own_edit(client):
    series = SeriesFactory(slug="guide")
    PostFactory(series=series, published_at=timezone.now() - timedelta(days=40))
    newest = PostFactory(series=series, published_at=timezone.now() - timedelta(days=10))
    type(series).objects.filter(pk=series.pk).update(updated_at=timezone.now() - timedelta(days=20))

    assert urlset(client, "/sitemap-series.xml") == {
        f"{SITE}/series/guide/": newest.published_at.date().isoformat()
    }


def test_sections_are_paginated_and_the_index_links_every_page(client, monkeypatch):
    monkeypatch.setattr(sitemaps.PostSitemap, "limit", 2)
    posts = [PostFactory(published_at=timezone.now() - timedelta(hours=n + 1)) for n in range(5)]
    draft = PostFactory(status=Post.Status.DRAFT)  # its id sits inside the last range

    locations = index_locations(client)
    pages = [urlset(client, f"/sitemap-posts.xml?p={n}") for n in (1, 2, 3)]

    assert [loc for loc in locations if "sitemap-posts" in loc] == [
        f"{SITE}/sitemap-posts.xml",
        f"{SITE}/sitemap-posts.xml?p=2",
        f"{SITE}/sitemap-posts.xml?p=3",
    ]
    # Pages of consecutive ids from the lowest public one, oldest first.
    assert [list(page) for page in pages] == [
        [f"{SITE}{p.get_absolute_url()}" for p in posts[0:2]],
        [f"{SITE}{p.get_absolute_url()}" for p in posts[2:4]],
        [f"{SITE}{p.get_absolute_url()}" for p in posts[4:5]],
    ]
    assert f"{SITE}{draft.get_absolute_url()}" not in pages[2]
    assert client.get("/sitemap-posts.xml?p=4").status_code == 404
    assert client.get("/sitemap-posts.xml?p=0").status_code == 404
    assert client.get("/sitemap-posts.xml?p=x").status_code == 404


def test_a_section_page_costs_the_same_queries_however_deep(client, monkeypatch):
    monkeypatch.setattr(sitemaps.PostSitemap, "limit", 1)
    for n in range(4):
        PostFactory(published_at=timezone.now() - timedelta(hours=n + 1))
    first = CaptureQueriesContext(connection)
    with first:
        assert client.get("/sitemap-posts.xml").status_code == 200
    with CaptureQueriesContext(connection) as last:
        assert client.get("/sitemap-posts.xml?p=4").status_code == 200
    assert len(last.captured_queries) == len(first.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in last.captured_queries)


def test_a_section_page_stays_within_the_protocol_limit():
    # 100,000 posts make 100 pages of 1,000; one file may hold 50,000 URLs.
    assert all(cls.limit <= 1000 for cls in sitemaps.SITEMAPS.values())


def test_unknown_section_is_404(client):
    assert client.get("/sitemap-nope.xml").status_code == 404


def test_posts_section_query_count_does_not_grow_with_posts(client, settings):
    settings.PAGE_CACHE_ENABLED = False
    PostFactory()

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/sitemap-posts.xml").status_code == 200
        return len(ctx.captured_queries)

    small = queries()
    PostFactory.create_batch(10)
    assert queries() == small


# --- Page cache ---------------------------------------------------------------------


def test_index_carries_posts_tags_and_authors_cache_tags(client):
    response = client.get("/sitemap.xml")

    assert response.cache_tags == {cache_tags.POSTS, cache_tags.TAGS, cache_tags.AUTHORS}
    assert response["Cache-Tag"] == "authors posts tags"


def test_posts_section_carries_a_cache_tag_per_listed_post(client):
    posts = PostFactory.create_batch(2)
    PostFactory(draft=True)

    response = client.get("/sitemap-posts.xml")

    assert response.cache_tags == {cache_tags.POSTS, cache_tags.TAGS, cache_tags.AUTHORS} | {
        cache_tags.post(p.pk) for p in posts
    }
    assert client.get("/sitemap-posts.xml")["X-Page-Cache"] == "hit"


def test_series_section_carries_a_cache_tag_per_listed_series(client):
    series = SeriesFactory()
    PostFactory(series=series, series_order=1)

    response = client.get("/sitemap-series.xml")

    assert cache_tags.series(series.pk) in response.cache_tags
    assert {cache_tags.POSTS, cache_tags.TAGS, cache_tags.AUTHORS} <= response.cache_tags


def test_sitemap_is_fresh_after_a_slug_change(client, django_capture_on_commit_callbacks):
    post = PostFactory(slug="before")
    assert f"{SITE}/posts/before/" in urlset(client, "/sitemap-posts.xml")

    with django_capture_on_commit_callbacks(execute=True):
        post.slug = "after"
        post.save()

    assert list(urlset(client, "/sitemap-posts.xml")) == [f"{SITE}/posts/after/"]


# --- robots.txt ---------------------------------------------------------------------


def test_robots_txt_allows_all_but_the_admin_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /admin/" in lines
    assert [line for line in lines if line.startswith("Disallow")] == ["Disallow: /admin/"]
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def test_robots_txt_is_page_cached(client):
    response = client.get("/robots.txt")

    assert response.cache_tags == set()
    assert response["X-Page-Cache"] == "miss"
    assert client.get("/robots.txt")["X-Page-Cache"] == "hit"
