"""Page-cache keys hold only the query parameters a page's view reads.

Tracking tags and made-up parameters share the plain URL's entry (one key in
Redis, served as a hit), so they can neither fill the store nor force misses.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.cache import page
from core.cache.store import RedisPageStore, get_store
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_store() -> RedisPageStore:
    store = get_store()
    assert isinstance(store, RedisPageStore), "run through scripts/with-services.sh (REDIS_URL)"
    return store


@pytest.fixture
def posts():
    author = AuthorFactory(handle="ada")
    tag = TagFactory(name="Indexes", slug="indexes")
    now = timezone.now()
    return [
        PostFactory(
            title=f"Indexes, part {n}",
            slug=f"indexes-{n}",
            authors=[author],
            tags=[tag],
            published_at=now - timedelta(days=n),
        )
        for n in range(12)  # two pages of ten
    ]


def stored_keys(store: RedisPageStore, path: str) -> list[str]:
    """The page keys in Redis for `path`, with or without a query string."""
    keys = {k.decode() for k in store.client.scan_iter(match=store.key(f"{page.FORMAT}:{path}*"))}
    prefix = store.key(f"{page.FORMAT}:{path}")
    return sorted(k for k in keys if k == prefix or k.startswith(f"{prefix}?"))


def environ(path: str, query: str) -> dict:
    return {"PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": ""}


def test_tracking_parameters_share_the_plain_urls_entry_and_are_hits(client, posts, redis_store):
    first = client.get("/")
    assert first["X-Page-Cache"] == "miss"

    for n in range(25):
        query = f"utm_source=bot{n}&utm_medium=x&fbclid={n}&a={n}&_={n}"
        response = client.get(f"/?{query}")
        assert response.status_code == 200
        assert response["X-Page-Cache"] == "hit", query
        assert response.content == first.content

    assert stored_keys(redis_store, "/") == [redis_store.key("v2:/")]


def test_a_page_rendered_for_a_tracking_url_is_the_same_bytes_as_for_the_plain_url(
    client, posts, settings
):
    settings.PAGE_CACHE_ENABLED = False  # two real renders

    plain = client.get("/?page=2").content
    tracked = client.get("/?utm_source=newsletter&page=2&ref=x").content

    assert tracked == plain
    assert b"utm_source" not in tracked and b"ref=x" not in tracked
    assert b'href="/"' in tracked  # "Newer" goes back to the plain home page


def test_page_links_keep_the_search_query_but_not_tracking_tags(client, posts, settings):
    settings.PAGE_CACHE_ENABLED = False
    PostFactory.create_batch(
        10, title="More indexes", published_at=timezone.now() - timedelta(days=30)
    )

    body = client.get("/search/?utm_source=x&q=indexes").content.decode()

    assert 'href="?q=indexes&amp;page=2"' in body
    assert "utm_source" not in body


def test_page_one_shares_the_entry_of_the_first_page(client, posts, redis_store):
    first = client.get("/")

    for query in ("page=1", "page=01", "page=", "page=1&utm_source=x"):
        response = client.get(f"/?{query}")
        assert response["X-Page-Cache"] == "hit", query
        assert response.content == first.content

    assert stored_keys(redis_store, "/") == [redis_store.key("v2:/")]


def test_later_pages_have_their_own_entry(client, posts, redis_store):
    assert client.get("/?page=2")["X-Page-Cache"] == "miss"
    assert client.get("/?page=02&utm_source=x")["X-Page-Cache"] == "hit"

    assert stored_keys(redis_store, "/") == [redis_store.key("v2:/?page=2")]


def test_a_page_past_the_end_is_a_404_that_is_not_stored(client, posts, redis_store):
    for _ in range(2):
        response = client.get("/?page=3")
        assert response.status_code == 404
        assert "X-Page-Cache" not in response

    assert stored_keys(redis_store, "/") == []


def test_each_search_query_has_its_own_entry_whatever_the_tracking_tags(client, posts, redis_store):
    assert client.get("/search/?q=indexes")["X-Page-Cache"] == "miss"
    assert client.get("/search/?utm_campaign=y&q=indexes")["X-Page-Cache"] == "hit"
    assert client.get("/search/?q=part")["X-Page-Cache"] == "miss"

    assert stored_keys(redis_store, "/search/") == [
        redis_store.key("v2:/search/?q=indexes"),
        redis_store.key("v2:/search/?q=part"),
    ]


def test_a_post_page_ignores_page_and_q_which_it_does_not_read(client, posts, redis_store):
    path = posts[0].get_absolute_url()
    first = client.get(path)

    for query in ("page=7", "q=anything", "page=2&q=x&utm_source=y"):
        response = client.get(f"{path}?{query}")
        assert response["X-Page-Cache"] == "hit", query
        assert response.content == first.content

    assert stored_keys(redis_store, path) == [redis_store.key(f"v2:{path}")]


def test_keys_hold_only_the_names_each_view_reads_sorted():
    assert page.key(environ("/", "b=2&page=3&a=1")) == "v2:/?page=3"
    assert page.key(environ("/search/", "q=%C3%A9t%C3%A9&page=2&x=1")) == (
        "v2:/search/?page=2&q=%C3%A9t%C3%A9"
    )
    assert page.key(environ("/search/", "q=a&q=b")) == "v2:/search/?q=b"  # as request.GET.get
    assert page.key(environ("/sitemap-posts.xml", "p=2&page=3")) == "v2:/sitemap-posts.xml?p=2"
    assert page.key(environ("/feed/", "page=2&q=x")) == "v2:/feed/"
    assert page.key(environ("/no/such/path/", "page=2")) == "v2:/no/such/path/"


def test_a_name_left_out_of_the_setting_never_reaches_a_key(settings):
    settings.PAGE_CACHE_QUERY_PARAMS = ["page"]

    assert page.key(environ("/search/", "q=x&page=2")) == "v2:/search/?page=2"
