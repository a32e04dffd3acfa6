"""The page cache: hits, exact invalidation for every model and through row,
scheduled posts, never-shared responses, conditional GETs and Redis outages.

These tests commit (transaction=True) so on_commit invalidation really runs,
as it does under gunicorn.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.cache import near
from core.cache.store import get_store
from posts import services
from posts.models import Authorship, Post, PostTag
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site():
    ada = AuthorFactory(handle="ada", display_name="Ada Quill")
    bob = AuthorFactory(handle="bob", display_name="Bob Marlin")
    django_tag = TagFactory(name="Djangonaut", slug="djangonaut", description="Web framework.")
    redis_tag = TagFactory(name="Redistribution", slug="redistribution")
    series = SeriesFactory(title="Cache Chronicles", slug="cache-chronicles", description="Parts.")
    older = PostFactory(
        title="Older neighbour post",
        slug="older",
        published_at=timezone.now() - timedelta(days=2),
        authors=[ada],
        tags=[django_tag],
    )
    post = PostFactory(
        title="Original headline",
        slug="original",
        authors=[ada],
        tags=[django_tag],
        series=series,
        series_order=1,
    )
    return SimpleNamespace(
        ada=ada, bob=bob, tag=django_tag, tag2=redis_tag, series=series, post=post, older=older
    )


PAGES = {
    "home": "/",
    "post": "/posts/original/",
    "tag": "/tags/djangonaut/",
    "tags": "/tags/",
    "author": "/authors/ada/",
    "authors": "/authors/",
    "series": "/series/cache-chronicles/",
    "rss": "/feed/",
    "atom": "/feed/atom/",
    "json": "/feed.json",
    "tag_feed": "/tags/djangonaut/feed/",
    "author_feed": "/authors/ada/feed/",
    "sitemap": "/sitemap-posts.xml",
}


def warm(client: Client, *names: str) -> None:
    """Fetch each page until it is served from the cache."""
    for name in names:
        first = client.get(PAGES[name])
        assert first.status_code == 200, (name, first.status_code)
        second = client.get(PAGES[name])
        assert second["X-Page-Cache"] == "hit", name


def text(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_second_request_is_a_hit_with_the_same_bytes(site):
    client = Client()
    miss = client.get("/")
    hit = client.get("/")
    assert miss["X-Page-Cache"] == "miss"
    assert hit["X-Page-Cache"] == "hit"
    assert hit.content == miss.content
    assert hit["ETag"] == miss["ETag"]
    assert "Original headline" in hit.content.decode()


def test_pages_carry_cache_tags_for_what_they_show(site):
    response = Client().get(PAGES["post"])
    tags = set(response["Cache-Tag"].split())
    assert {f"p{site.post.pk}", f"a{site.ada.pk}", f"t{site.tag.pk}", "posts"} <= tags
    assert response["Surrogate-Key"] == response["Cache-Tag"]
    assert "s-maxage=" in response["Cache-Control"]
    assert "stale-while-revalidate=" in response["Cache-Control"]
    assert response["Cache-Control"].startswith("public")


ALL_POST_PAGES = [
    "home",
    "post",
    "tag",
    "author",
    "series",
    "rss",
    "atom",
    "json",
    "tag_feed",
    "author_feed",
]


def test_editing_a_post_title_refreshes_every_page_that_shows_it(site):
    reader, other_worker = Client(), Client()
    warm(reader, *ALL_POST_PAGES)
    site.post.title = "Edited headline"
    site.post.save()
    for name in ALL_POST_PAGES:
        body = text(other_worker, PAGES[name])
        assert "Edited headline" in body, name
        assert "Original headline" not in body, name


def test_changing_a_slug_refreshes_links_and_sitemap(site):
    client = Client()
    warm(client, "home", "sitemap", "tag")
    site.post.slug = "renamed"
    site.post.save()
    for name in ("home", "sitemap", "tag"):
        body = text(client, PAGES[name])
        assert "/posts/renamed/" in body, name
        assert "/posts/original/" not in body, name


def test_unpublishing_removes_the_post_everywhere(site):
    client = Client()
    warm(client, "home", "tag", "author", "rss", "sitemap", "series")
    site.post.status = Post.Status.DRAFT
    site.post.save()
    for name in ("home", "tag", "author", "rss", "series"):
        assert "Original headline" not in text(client, PAGES[name]), name
    assert "/posts/original/" not in text(client, PAGES["sitemap"])
    assert client.get(PAGES["post"]).status_code == 404


def test_deleting_a_post_removes_it_and_its_neighbours_links(site):
    client = Client()
    warm(client, "home", "rss")
    older_page = "/posts/older/"
    client.get(older_page)
    assert "Original headline" in text(client, older_page)  # as its "next" post
    site.post.delete()
    assert "Original headline" not in text(client, PAGES["home"])
    assert "Original headline" not in text(client, PAGES["rss"])
    assert "Original headline" not in text(client, older_page)


def test_publishing_a_new_post_shows_on_listings_and_feeds(site):
    client = Client()
    warm(client, "home", "rss", "tag", "tags")
    PostFactory(title="Brand new arrival", tags=[site.tag], authors=[site.bob])
    for name in ("home", "rss", "tag"):
        assert "Brand new arrival" in text(client, PAGES[name]), name


def test_renaming_a_tag_refreshes_its_pages_and_every_post_card(site):
    client = Client()
    warm(client, "home", "post", "tag", "tags", "rss")
    site.tag.name = "Ponyland"
    site.tag.save()
    for name in ("home", "post", "tag", "tags", "rss"):
        body = text(client, PAGES[name])
        assert "Ponyland" in body, name
        assert "Djangonaut" not in body, name


def test_editing_an_author_refreshes_bylines_author_pages_and_feeds(site):
    client = Client()
    warm(client, "home", "post", "author", "authors", "rss", "atom", "json")
    site.ada.display_name = "Ada Renamed"
    site.ada.save()
    for name in ("home", "post", "author", "authors", "rss", "atom", "json"):
        body = text(client, PAGES[name])
        assert "Ada Renamed" in body, name
        assert "Ada Quill" not in body, name


def test_saving_the_user_behind_an_author_drops_their_pages(site):
    client = Client()
    warm(client, "author", "post")
    site.ada.user.first_name = "Augusta"
    site.ada.user.save()
    assert client.get(PAGES["author"])["X-Page-Cache"] == "miss"
    assert client.get(PAGES["post"])["X-Page-Cache"] == "miss"


def test_renaming_a_series_refreshes_the_series_and_its_posts(site):
    client = Client()
    warm(client, "series", "post")
    site.series.title = "Cache Sagas"
    site.series.save()
    for name in ("series", "post"):
        body = text(client, PAGES[name])
        assert "Cache Sagas" in body, name
        assert "Cache Chronicles" not in body, name


def test_adding_and_removing_a_coauthor_updates_bylines(site):
    client = Client()
    warm(client, "home", "post", "rss")
    row = Authorship.objects.create(post=site.post, author=site.bob, position=1)
    for name in ("home", "post", "rss"):
        assert "Bob Marlin" in text(client, PAGES[name]), name
    assert "Original headline" in text(client, "/authors/bob/")
    row.delete()
    for name in ("home", "post", "rss"):
        assert "Bob Marlin" not in text(client, PAGES[name]), name


def test_reordering_the_byline_shows_the_new_order(site):
    Authorship.objects.create(post=site.post, author=site.bob, position=1)
    client = Client()
    client.get(PAGES["post"])
    body = text(client, PAGES["post"])
    assert body.index("Ada Quill") < body.index("Bob Marlin")
    Authorship.objects.filter(post=site.post, author=site.bob).update(position=0)
    # .update() bypasses signals; the admin saves rows one by one instead.
    ada_row = Authorship.objects.get(post=site.post, author=site.ada)
    ada_row.position = 5
    ada_row.save()
    body = text(client, PAGES["post"])
    assert body.index("Bob Marlin") < body.index("Ada Quill")


def test_adding_a_tag_row_updates_the_post_and_the_new_tags_archive(site):
    client = Client()
    warm(client, "post")
    client.get("/tags/redistribution/")
    assert "Original headline" not in text(client, "/tags/redistribution/")
    PostTag.objects.create(post=site.post, tag=site.tag2, position=1)
    assert "Redistribution" in text(client, PAGES["post"])
    assert "Original headline" in text(client, "/tags/redistribution/")


def test_tags_added_with_the_m2m_manager_invalidate_too(site):
    client = Client()
    warm(client, "post")
    site.post.tags.add(site.tag2, through_defaults={"position": 3})
    assert "Redistribution" in text(client, PAGES["post"])
    site.post.tags.remove(site.tag2)
    assert "Redistribution" not in text(client, PAGES["post"])


def test_removing_a_tag_row_drops_the_post_from_the_archive(site):
    client = Client()
    warm(client, "tag", "post")
    PostTag.objects.get(post=site.post, tag=site.tag).delete()
    assert "Original headline" not in text(client, PAGES["tag"])
    assert "Djangonaut" not in text(client, PAGES["post"])


def test_moving_a_post_to_another_series_refreshes_both_series(site):
    other = SeriesFactory(title="Query Quests", slug="query-quests")
    client = Client()
    warm(client, "series", "post")
    client.get("/series/query-quests/")
    services.post_update(post=site.post, series=other, series_order=1)
    assert "Original headline" not in text(client, PAGES["series"])
    assert "Original headline" in text(client, "/series/query-quests/")
    assert "Query Quests" in text(client, PAGES["post"])


def test_deleting_a_tag_removes_it_from_every_page(site):
    client = Client()
    warm(client, "post", "home", "tags")
    services.tag_delete(tag=site.tag)
    for name in ("post", "home", "tags"):
        assert "Djangonaut" not in text(client, PAGES[name]), name
    assert client.get(PAGES["tag"]).status_code == 404


def test_deleting_an_author_removes_their_byline_and_page(site):
    client = Client()
    warm(client, "post", "home", "authors")
    services.author_delete(author=site.ada)
    for name in ("post", "home", "authors"):
        assert "Ada Quill" not in text(client, PAGES[name]), name
    assert client.get(PAGES["author"]).status_code == 404


def test_deleting_a_series_leaves_its_posts_outside_any_series(site):
    client = Client()
    warm(client, "post", "series")
    services.series_delete(series=site.series)
    assert "Cache Chronicles" not in text(client, PAGES["post"])
    assert client.get(PAGES["series"]).status_code == 404


def test_reverse_m2m_writes_from_the_tag_side_invalidate_too(site):
    client = Client()
    warm(client, "post")
    client.get("/tags/redistribution/")
    site.tag2.posts.add(site.post, through_defaults={"position": 4})
    assert "Redistribution" in text(client, PAGES["post"])
    assert "Original headline" in text(client, "/tags/redistribution/")
    site.tag2.posts.clear()
    assert "Redistribution" not in text(client, PAGES["post"])


def test_merging_tags_moves_posts_and_redirects_the_old_tag(site):
    client = Client()
    warm(client, "post", "tag")
    services.tag_merge(source=site.tag, into=site.tag2)
    assert "Redistribution" in text(client, PAGES["post"])
    assert "Djangonaut" not in text(client, PAGES["post"])
    response = client.get(PAGES["tag"])
    assert (response.status_code, response["Location"]) == (301, "/tags/redistribution/")
    assert "Original headline" in text(client, "/tags/redistribution/")


def test_a_scheduled_post_appears_once_its_time_passes(site, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    PostFactory(title="Future piece", published_at=timezone.now() + timedelta(minutes=5))
    client = Client()
    client.get("/")
    hit = client.get("/")
    assert hit["X-Page-Cache"] == "hit"
    assert "Future piece" not in hit.content.decode()
    assert "s-maxage=301" in hit["Cache-Control"]  # capped at the publication time
    time_machine.shift(timedelta(minutes=5, seconds=2))
    body = text(client, "/")
    assert "Future piece" in body
    assert "Future piece" in text(client, PAGES["rss"])


def test_logged_in_readers_are_never_served_or_stored(site):
    user = UserFactory(is_staff=True)
    staff = Client()
    staff.force_login(user)
    response = staff.get("/")
    assert "X-Page-Cache" not in response
    assert response["Cache-Control"].startswith("private")
    assert Client().get("/")["X-Page-Cache"] == "miss"  # nothing was stored for the staff user
    Client().get("/")
    assert "X-Page-Cache" not in staff.get("/")  # and a stored page is not served to them


def test_previews_are_never_cached(site):
    draft = PostFactory(title="Secret draft", slug="secret", draft=True, authors=[site.ada])
    author = Client()
    author.force_login(site.ada.user)
    preview = author.get("/posts/secret/")
    assert preview.status_code == 200
    assert "Secret draft" in preview.content.decode()
    assert "X-Page-Cache" not in preview
    assert "public" not in preview.get("Cache-Control", "")
    assert Client().get("/posts/secret/").status_code == 404
    assert draft.pk


def test_a_session_or_csrf_cookie_bypasses_the_cache(site):
    Client().get("/")
    for cookie in ("sessionid", "csrftoken"):
        client = Client()
        client.cookies[cookie] = "x"
        assert "X-Page-Cache" not in client.get("/"), cookie


def test_posts_and_other_methods_are_never_cached(site):
    Client().get("/")
    response = Client().post("/", {})
    assert "X-Page-Cache" not in response


def test_conditional_get_answers_304_from_the_cache(site):
    client = Client()
    first = client.get(PAGES["post"])
    again = client.get(PAGES["post"], HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["X-Page-Cache"] == "hit"
    assert again.content == b""
    stale = client.get(PAGES["post"], HTTP_IF_NONE_MATCH='"something-else"')
    assert stale.status_code == 200


def test_conditional_get_answers_304_on_a_miss_too(site):
    etag = Client().get(PAGES["post"])["ETag"]
    get_store().purge()
    response = Client().get(PAGES["post"], HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["X-Page-Cache"] == "miss"


def test_head_requests_share_the_get_entry(site):
    client = Client()
    client.get("/")
    head = client.head("/")
    assert head["X-Page-Cache"] == "hit"
    assert head.content == b""


def test_a_render_that_started_before_an_edit_is_not_stored(site):
    store = get_store()
    token = store.token()
    from core.cache.store import invalidate_on_commit

    invalidate_on_commit({f"p{site.post.pk}"})  # the edit commits while the render runs
    store.set("/race/", b"payload", tags={f"p{site.post.pk}"}, ttl=60, token=token)
    assert store.get("/race/") is None
    assert store.set("/race/", b"payload", tags={f"p{site.post.pk}"}, ttl=60, token=store.token())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pages_are_served_when_redis_stops_mid_test(site, settings, tmp_path, caplog):
    port = free_port()
    server = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        settings.CACHES = {
            "default": {
                **settings.CACHES.get("default", {}),
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {
                    "IGNORE_EXCEPTIONS": True,
                    "SOCKET_CONNECT_TIMEOUT": 0.5,
                    "SOCKET_TIMEOUT": 0.5,
                },
            }
        }
        get_store.cache_clear()
        client = Client()
        client.get("/")
        assert client.get("/")["X-Page-Cache"] == "hit"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
    # This process's own copy of "/" (core.cache.near) may answer until its
    # lease lapses, at most LEASE_S * SAFE_SHARE into the outage; then Redis is asked.
    deadline = time.monotonic() + near.LEASE_S
    while near._near is not None and near._near.valid_until > time.monotonic():
        assert time.monotonic() < deadline, "the copies outlived their lease"
        time.sleep(0.01)
    down = client.get("/")
    assert down.status_code == 200
    assert "Original headline" in down.content.decode()
    assert down["X-Page-Cache"] == "unavailable"
    site.post.title = "Edited during the outage"
    site.post.save()  # invalidation fails quietly; the write must not
    assert "Edited during the outage" in text(client, "/")
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "ok"
    assert ready.json()["cache"].startswith("error")
    assert any("page cache" in r.getMessage() for r in caplog.records)
    get_store.cache_clear()


def test_an_edit_in_another_process_refreshes_this_process(site, settings):
    client = Client()
    warm(client, "home", "post")
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    script = (
        "from posts.models import Post; p = Post.objects.get(slug='original'); "
        "p.title = 'Edited elsewhere'; p.save()"
    )
    env = {**os.environ, "DATABASE_URL": url}
    if "LOCATION" in settings.CACHES["default"] and not os.environ.get("REDIS_URL"):
        env["FILE_CACHE_DIR"] = settings.CACHES["default"]["LOCATION"]  # same file cache
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    assert Post.objects.get(slug="original").title == "Edited elsewhere"
    for name in ("home", "post"):
        body = text(client, PAGES[name])
        assert "Edited elsewhere" in body, name
        assert "Original headline" not in body, name


def test_cached_pages_vary_on_cookie(site):
    response = Client().get("/")
    assert "Cookie" in response["Vary"]
    assert "Cookie" in Client().get("/")["Vary"]  # the stored copy keeps it


def test_purge_cache_command_drops_every_page(site, capsys):
    from django.core.management import call_command

    client = Client()
    warm(client, "home", "post")
    call_command("purge_cache")
    assert "Page cache purged" in capsys.readouterr().out
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get(PAGES["post"])["X-Page-Cache"] == "miss"


def test_warm_cache_command_fills_home_indexes_tags_authors_series_and_posts(site, capsys):
    from django.core.management import call_command

    call_command("warm_cache", posts=5)
    out = capsys.readouterr().out
    assert "Warmed" in out
    client = Client()
    for name in ("home", "post", "tag", "tags", "author", "authors", "series", "rss"):
        assert client.get(PAGES[name])["X-Page-Cache"] == "hit", name
    assert client.get("/posts/older/")["X-Page-Cache"] == "hit"


@pytest.fixture
def file_cache(settings, tmp_path):
    """The store `make run` uses without Redis: Django's file cache, shared by workers."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    get_store.cache_clear()
    yield
    get_store.cache_clear()


def test_file_cache_serves_hits_and_drops_them_on_edit(site, file_cache):
    from core.cache.store import GenerationPageStore

    assert isinstance(get_store(), GenerationPageStore)
    reader, other_worker = Client(), Client()
    warm(reader, "home", "post")
    site.post.title = "Edited on SQLite"
    site.post.save()
    for name in ("home", "post"):
        response = other_worker.get(PAGES[name])
        assert response["X-Page-Cache"] == "miss", name
        assert "Edited on SQLite" in response.content.decode(), name


def test_file_cache_never_serves_a_render_older_than_an_edit(site, file_cache):
    store = get_store()
    token = store.token()
    store.invalidate({f"p{site.post.pk}"})
    store.set("/race/", b"payload", tags={f"p{site.post.pk}"}, ttl=60, token=token)
    assert store.get("/race/") is None


def admin_post_data(post: Post, **changes) -> dict:
    """The admin change form as a browser would submit it, with its two inlines."""
    local = timezone.localtime(post.published_at)
    data = {
        "title": post.title,
        "slug": post.slug,
        "summary": post.summary,
        "body": post.body,
        "body_format": post.body_format,
        "cover_alt": "",
        "status": post.status,
        "published_at_0": local.strftime("%Y-%m-%d"),
        "published_at_1": local.strftime("%H:%M:%S"),
        "canonical_url": "",
        "source_guid": "",
        "series": post.series_id or "",
        "series_order": post.series_order or "",
        "_save": "Save",
    }
    for prefix, rows, fields in (
        ("authorships", post.authorships.all(), ("author", "position", "role")),
        ("post_tags", post.post_tags.all(), ("tag", "position")),
    ):
        rows = list(rows)
        data |= {
            f"{prefix}-TOTAL_FORMS": len(rows),
            f"{prefix}-INITIAL_FORMS": len(rows),
            f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000,
        }
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-post"] = post.pk
            for field in fields:
                value = getattr(row, f"{field}_id", None) or getattr(row, field)
                data[f"{prefix}-{i}-{field}"] = value
            if prefix == "post_tags" and row.is_primary:
                data[f"{prefix}-{i}-is_primary"] = "on"
    return data | changes


def test_an_edit_saved_in_the_admin_shows_on_the_next_anonymous_request(site):
    reader = Client()
    warm(reader, "home", "post", "rss")
    editor = Client()
    editor.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = editor.post(
        f"/admin/posts/post/{site.post.pk}/change/",
        admin_post_data(site.post, title="Saved from the admin"),
    )
    assert response.status_code == 302, response.context and response.context["adminform"].errors
    for name in ("home", "post", "rss"):
        body = text(reader, PAGES[name])
        assert "Saved from the admin" in body, name
        assert "Original headline" not in body, name
