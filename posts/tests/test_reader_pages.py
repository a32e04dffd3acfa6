"""What the reader page types not covered elsewhere show: the series page, the tag
index, a draft's preview and the error pages. Written before the templates moved to
Jinja2, so they hold for both engines."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from core import limits
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_the_series_page_lists_its_posts_in_order_under_its_title(client):
    series = SeriesFactory(title="Indexes in practice", description="Three parts.")
    PostFactory(title="Part two", series=series, series_order=2)
    PostFactory(title="Part one", series=series, series_order=1)

    body = client.get(series.get_absolute_url()).content.decode()

    assert "<title>Indexes in practice · blogsite</title>" in body
    assert '<p class="page-header__lede">Three parts.</p>' in body
    assert body.index(">Part one</a></h2>") < body.index(">Part two</a></h2>")
    assert body.count('<li class="series-list__item">') == 2


def test_the_tag_index_shows_each_tag_with_its_post_count(client):
    one, two = TagFactory(name="Django", slug="django"), TagFactory(name="Rust", slug="rust")
    PostFactory(tags=[one])
    PostFactory(tags=[two])
    PostFactory(tags=[two])

    body = client.get("/tags/").content.decode()

    assert '<span class="tag-index__count">1 post</span>' in body
    assert '<span class="tag-index__count">2 posts</span>' in body
    assert 'href="/tags/django/"' in body


def test_a_drafts_preview_says_it_is_a_draft_and_is_not_indexed(client):
    author = AuthorFactory()
    draft = PostFactory(title="Half written", draft=True, authors=[author])
    client.force_login(author.user)

    body = client.get(draft.get_absolute_url()).content.decode()

    assert "This post is a draft." in body
    assert '<meta name="robots" content="noindex, follow">' in body
    assert "<span>Not published yet</span>" in body
    assert "application/ld+json" not in body


def test_the_error_pages_say_what_happened():
    get = RequestFactory().get("/search/")

    assert "<h1>Something went wrong</h1>" in server_error(get).content.decode()
    too_many = limits.too_many_requests(get, retry_after=1).content.decode()
    assert "Please wait 1 second and try again." in too_many
    assert (
        "Please wait 30 seconds" in limits.too_many_requests(get, retry_after=30).content.decode()
    )
    too_large = limits.payload_too_large(RequestFactory().post("/admin/login/")).content.decode()
    assert "<title>Request too large · blogsite</title>" in too_large
    locked = limits.locked_out(RequestFactory().post("/admin/login/")).content.decode()
    assert "signing in is locked for 15 minutes, even with the right password" in locked
