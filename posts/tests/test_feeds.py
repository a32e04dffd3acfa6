import json
from datetime import datetime, timedelta

import feedparser
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.cache import tags as cache_tags
from posts import services
from posts.feeds import absolutize_urls
from posts.models import Post
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

SITE = "https://blog.example.com"
GUID_PREFIX = "tag:blog.example.com,2026:post:"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    # Not the test client's host: feed URLs must come from SITE_URL, not the request.
    settings.SITE_URL = SITE
    settings.SITE_NAME = "Example Blog"
    # AuthorFactory makes users with passwords; the default hasher is slow on purpose.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def hours_ago(n: float):
    return timezone.now() - timedelta(hours=n)


def parse(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def get_json_feed(client, url: str = "/feed.json") -> dict:
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/feed+json")
    return json.loads(response.content)


def assert_valid_json_feed(data: dict) -> None:
    """The parts of JSON Feed 1.1 a reader relies on."""
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str) and data["title"]
    assert data["home_page_url"].startswith(SITE)
    assert data["feed_url"].startswith(SITE)
    assert isinstance(data["items"], list)
    for item in data["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith(f"{SITE}/posts/")
        assert isinstance(item["content_html"], str) and item["content_html"]
        assert isinstance(item["authors"], list)
        for author in item["authors"]:
            assert author["name"]
            assert author["url"].startswith(f"{SITE}/authors/")
        assert isinstance(item["tags"], list)
        published = datetime.fromisoformat(item["date_published"])
        modified = datetime.fromisoformat(item["date_modified"])
        assert published.tzinfo is not None and modified >= published


# --- Which posts ----------------------------------------------------------------


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feed_lists_public_posts_newest_first_without_drafts_or_scheduled(client, url):
    old = PostFactory(title="Old post", published_at=hours_ago(30))
    new = PostFactory(title="New post", published_at=hours_ago(1))
    middle = PostFactory(title="Middle post", published_at=hours_ago(5))
    PostFactory(title="Draft post", draft=True)
    PostFactory(title="Scheduled post", scheduled=True)

    feed = parse(client, url)

    assert [e.title for e in feed.entries] == [new.title, middle.title, old.title]


def test_json_feed_lists_public_posts_newest_first_without_drafts_or_scheduled(client):
    old = PostFactory(title="Old post", published_at=hours_ago(30))
    new = PostFactory(title="New post", published_at=hours_ago(1))
    PostFactory(title="Draft post", draft=True)
    PostFactory(title="Scheduled post", scheduled=True)

    data = get_json_feed(client)

    assert_valid_json_feed(data)
    assert [i["title"] for i in data["items"]] == [new.title, old.title]


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/"])
def test_feed_holds_only_the_latest_20_posts(client, url):
    posts = [PostFactory(published_at=hours_ago(n + 1)) for n in range(22)]

    feed = parse(client, url)

    assert [e.link for e in feed.entries] == [f"{SITE}{p.get_absolute_url()}" for p in posts[:20]]


# --- What an item carries --------------------------------------------------------


@pytest.fixture
def rich_post():
    ada = AuthorFactory(display_name="Ada Lovelace", handle="ada")
    bob = AuthorFactory(display_name="Bob Byline", handle="bob")
    cy = AuthorFactory(display_name="Cy Coauthor", handle="cy")
    tags = [TagFactory(name="Django", slug="django"), TagFactory(name="Feeds", slug="feeds")]
    tags.append(TagFactory(name="Caching", slug="caching"))
    return PostFactory(
        title="Rich post",
        slug="rich-post",
        summary="One line about the rich post.",
        body=(
            "Read [the other post](/posts/other/) and [elsewhere](https://example.org/x).\n\n"
            "![A chart](/media/chart.png)\n\nA footnote.[^1]\n\n[^1]: The note.\n"
        ),
        published_at=hours_ago(3),
        # Byline order differs from name order on purpose.
        authors=[cy, ada, bob],
        tags=tags,
    )


def test_rss_item_carries_summary_full_body_authors_tags_dates_and_guid(client, rich_post):
    feed = parse(client, "/feed/")
    entry = feed.entries[0]

    assert entry.title == "Rich post"
    assert entry.link == f"{SITE}/posts/rich-post/"
    assert entry.summary == "One line about the rich post."
    body = entry.content[0].value
    assert f'<a href="{SITE}/posts/other/"' in body
    assert 'href="https://example.org/x"' in body
    assert f'src="{SITE}/media/chart.png"' in body
    assert f'href="{SITE}/posts/rich-post/#fn1"' in body
    assert 'href="/' not in body and 'src="/' not in body
    assert [a["name"] for a in entry.authors] == ["Cy Coauthor", "Ada Lovelace", "Bob Byline"]
    assert [t.term for t in entry.tags] == ["Django", "Feeds", "Caching"]
    assert entry.id == f"{GUID_PREFIX}{rich_post.pk}"
    assert entry.guidislink is False
    assert entry.published_parsed[:6] == rich_post.published_at.utctimetuple()[:6]
    assert entry.updated_parsed[:6] == rich_post.updated_at.utctimetuple()[:6]


def test_rss_guid_is_not_a_permalink(client, rich_post):
    content = client.get("/feed/").content.decode()

    assert f'<guid isPermaLink="false">{GUID_PREFIX}{rich_post.pk}</guid>' in content
    assert content.count("<dc:creator>") == 3


def test_atom_entry_carries_summary_html_content_authors_with_uris_tags_and_dates(
    client, rich_post
):
    feed = parse(client, "/feed/atom/")
    entry = feed.entries[0]

    assert entry.id == f"{GUID_PREFIX}{rich_post.pk}"
    assert entry.link == f"{SITE}/posts/rich-post/"
    assert entry.summary == "One line about the rich post."
    assert entry.content[0].type == "text/html"
    assert f'src="{SITE}/media/chart.png"' in entry.content[0].value
    assert entry.authors == [
        {"name": "Cy Coauthor", "href": f"{SITE}/authors/cy/"},
        {"name": "Ada Lovelace", "href": f"{SITE}/authors/ada/"},
        {"name": "Bob Byline", "href": f"{SITE}/authors/bob/"},
    ]
    assert [t.term for t in entry.tags] == ["Django", "Feeds", "Caching"]
    assert entry.published_parsed[:6] == rich_post.published_at.utctimetuple()[:6]
    assert entry.updated_parsed[:6] == rich_post.updated_at.utctimetuple()[:6]


def test_json_item_carries_summary_content_authors_tags_and_dates(client, rich_post):
    data = get_json_feed(client)
    assert_valid_json_feed(data)
    item = data["items"][0]

    assert item["id"] == f"{GUID_PREFIX}{rich_post.pk}"
    assert item["url"] == f"{SITE}/posts/rich-post/"
    assert item["summary"] == "One line about the rich post."
    assert f'src="{SITE}/media/chart.png"' in item["content_html"]
    assert 'href="/' not in item["content_html"]
    assert item["authors"] == [
        {"name": "Cy Coauthor", "url": f"{SITE}/authors/cy/"},
        {"name": "Ada Lovelace", "url": f"{SITE}/authors/ada/"},
        {"name": "Bob Byline", "url": f"{SITE}/authors/bob/"},
    ]
    assert item["tags"] == ["Django", "Feeds", "Caching"]
    assert datetime.fromisoformat(item["date_published"]) == rich_post.published_at
    assert datetime.fromisoformat(item["date_modified"]) == rich_post.updated_at


@pytest.mark.usefixtures("no_page_cache")
def test_guid_stays_the_same_when_the_slug_changes(client, rich_post):
    before_rss = parse(client, "/feed/").entries[0]
    before_atom = parse(client, "/feed/atom/").entries[0]
    before_json = get_json_feed(client)["items"][0]

    rich_post.slug = "renamed-post"
    rich_post.save()

    after_rss = parse(client, "/feed/").entries[0]
    after_atom = parse(client, "/feed/atom/").entries[0]
    after_json = get_json_feed(client)["items"][0]
    assert after_rss.link == f"{SITE}/posts/renamed-post/"
    assert after_rss.id == before_rss.id
    assert after_atom.id == before_atom.id
    assert after_json["id"] == before_json["id"]
    assert after_json["url"] == f"{SITE}/posts/renamed-post/"


def test_absolutize_urls_leaves_absolute_and_mailto_links_alone():
    html = (
        '<a href="/a/">a</a><a href="https://x.org/">x</a><a href="mailto:me@x.org">m</a>'
        '<img src="/media/p.png" alt=""><a href="#fn1">1</a><a href="//cdn.x.org/y">y</a>'
    )

    out = absolutize_urls(html, f"{SITE}/posts/p/")

    assert out == (
        f'<a href="{SITE}/a/">a</a><a href="https://x.org/">x</a><a href="mailto:me@x.org">m</a>'
        f'<img src="{SITE}/media/p.png" alt=""><a href="{SITE}/posts/p/#fn1">1</a>'
        '<a href="https://cdn.x.org/y">y</a>'
    )


# --- Feed-level data ---------------------------------------------------------------


def test_rss_channel_has_title_description_link_and_self_link(client):
    PostFactory()

    feed = parse(client, "/feed/")

    assert feed.feed.title == "Example Blog"
    assert feed.feed.description
    assert feed.feed.link == f"{SITE}/"
    assert {"rel": "self", "href": f"{SITE}/feed/"}.items() <= next(
        link for link in feed.feed.links if link.rel == "self"
    ).items()


def test_atom_feed_has_a_stable_id_and_self_link(client):
    PostFactory()

    first = parse(client, "/feed/atom/")
    PostFactory()
    second = parse(client, "/feed/atom/")

    assert first.feed.id == second.feed.id == "tag:blog.example.com,2026:feed"
    assert first.feed.title == "Example Blog"
    assert [link.href for link in first.feed.links if link.rel == "self"] == [f"{SITE}/feed/atom/"]


def test_json_feed_names_itself_and_the_site(client):
    data = get_json_feed(client)

    assert data["title"] == "Example Blog"
    assert data["home_page_url"] == f"{SITE}/"
    assert data["feed_url"] == f"{SITE}/feed.json"
    assert data["items"] == []


# --- Per-tag and per-author feeds ------------------------------------------------------


def test_tag_feed_lists_only_that_tags_public_posts(client):
    django, other = TagFactory(name="Django", slug="django"), TagFactory()
    tagged = PostFactory(title="Tagged", tags=[other, django], published_at=hours_ago(2))
    newer = PostFactory(title="Tagged newer", tags=[django], published_at=hours_ago(1))
    PostFactory(title="Untagged", tags=[other])
    PostFactory(title="Tagged draft", tags=[django], draft=True)
    PostFactory(title="Tagged scheduled", tags=[django], scheduled=True)

    feed = parse(client, "/tags/django/feed/")

    assert [e.title for e in feed.entries] == [newer.title, tagged.title]
    assert "Django" in feed.feed.title
    assert feed.feed.link == f"{SITE}/tags/django/"


def test_author_feed_lists_only_that_authors_public_posts(client):
    ada, bob = AuthorFactory(handle="ada", display_name="Ada L"), AuthorFactory()
    solo = PostFactory(title="Solo", authors=[ada], published_at=hours_ago(3))
    joint = PostFactory(title="Joint", authors=[bob, ada], published_at=hours_ago(1))
    PostFactory(title="Not hers", authors=[bob])
    PostFactory(title="Her draft", authors=[ada], draft=True)
    PostFactory(title="Her scheduled", authors=[ada], scheduled=True)

    feed = parse(client, "/authors/ada/feed/")

    assert [e.title for e in feed.entries] == [joint.title, solo.title]
    assert [a["name"] for a in feed.entries[0].authors] == [bob.display_name, "Ada L"]
    assert "Ada L" in feed.feed.title
    assert feed.feed.link == f"{SITE}/authors/ada/"


@pytest.mark.parametrize("url", ["/tags/no-such-tag/feed/", "/authors/no-such-author/feed/"])
def test_feed_of_unknown_tag_or_author_is_404(client, url):
    assert client.get(url).status_code == 404


@pytest.mark.usefixtures("no_page_cache")
def test_tag_feed_under_an_old_slug_redirects_to_the_current_one(client):
    tag = TagFactory(slug="old-name")
    services.tag_update(tag=tag, slug="new-name")

    response = client.get("/tags/old-name/feed/")

    assert response.status_code == 301
    assert response["Location"] == "/tags/new-name/feed/"
    assert not hasattr(response, "cache_tags")


@pytest.mark.usefixtures("no_page_cache")
def test_author_feed_under_an_old_handle_redirects_to_the_current_one(client):
    author = AuthorFactory(handle="old-handle")
    author.handle = "new-handle"
    services.author_save(author=author)

    response = client.get("/authors/old-handle/feed/")

    assert response.status_code == 301
    assert response["Location"] == "/authors/new-handle/feed/"


# --- Queries ------------------------------------------------------------------------------


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


FEED_URLS = ["/feed/", "/feed/atom/", "/feed.json", "/tags/shared/feed/", "/authors/lead/feed/"]


@pytest.mark.usefixtures("no_page_cache")
def test_feed_query_count_does_not_grow_with_authors_tags_or_posts(client):
    lead, shared, series = AuthorFactory(handle="lead"), TagFactory(slug="shared"), SeriesFactory()
    PostFactory(authors=[lead], tags=[shared])
    small = {url: count_queries(client, url) for url in FEED_URLS}

    for n in range(6):
        PostFactory(
            authors=[lead, *AuthorFactory.create_batch(4)],
            tags=[shared, *TagFactory.create_batch(19)],
            series=series,
            series_order=n,
        )
    large = {url: count_queries(client, url) for url in FEED_URLS}

    assert large == small
    assert max(small.values()) <= 4


# --- Page cache -------------------------------------------------------------------------


@pytest.fixture
def cached_content():
    ada = AuthorFactory(handle="ada")
    tag = TagFactory(slug="django")
    series = SeriesFactory()
    post = PostFactory(authors=[ada], tags=[tag], series=series, series_order=1)
    other = PostFactory(authors=[AuthorFactory()], tags=[TagFactory()])
    return {"ada": ada, "tag": tag, "series": series, "post": post, "other": other}


@pytest.mark.parametrize("url", ["/feed/", "/feed/atom/", "/feed.json"])
def test_site_feeds_carry_cache_tags_for_every_post_author_tag_and_series(
    client, cached_content, url
):
    c = cached_content
    response = client.get(url)

    expected = {cache_tags.POSTS} | cache_tags.for_posts(Post.objects.public().with_card_data())
    assert response.cache_tags == expected
    assert {
        cache_tags.post(c["post"].pk),
        cache_tags.author(c["ada"].pk),
        cache_tags.tag(c["tag"].pk),
        cache_tags.series(c["series"].pk),
        cache_tags.post(c["other"].pk),
    } <= expected
    assert response["Cache-Tag"] == " ".join(sorted(expected))
    assert response["X-Page-Cache"] == "miss"
    assert client.get(url)["X-Page-Cache"] == "hit"


def test_tag_feed_carries_the_tags_own_cache_tag(client, cached_content):
    c = cached_content
    response = client.get("/tags/django/feed/")

    assert response.cache_tags == {
        cache_tags.POSTS,
        cache_tags.tag(c["tag"].pk),
        cache_tags.post(c["post"].pk),
        cache_tags.author(c["ada"].pk),
        cache_tags.series(c["series"].pk),
    }


def test_author_feed_carries_the_authors_own_cache_tag(client):
    ada = AuthorFactory(handle="ada")
    response = client.get("/authors/ada/feed/")

    assert response.cache_tags == {cache_tags.POSTS, cache_tags.author(ada.pk)}
    assert "Cache-Tag" in response


def test_feed_is_fresh_after_a_post_edit(client, django_capture_on_commit_callbacks):
    post = PostFactory(title="First title")
    assert parse(client, "/feed/").entries[0].title == "First title"
    assert client.get("/feed/")["X-Page-Cache"] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        post.title = "Second title"
        post.save()

    assert parse(client, "/feed/").entries[0].title == "Second title"
