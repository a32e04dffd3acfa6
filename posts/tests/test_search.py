from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from posts import search, services
from posts.tests.factories import PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def ago(days: int):
    return timezone.now() - timedelta(days=days)


def test_search_covers_title_summary_body_and_tag_names():
    by_title = PostFactory(title="Quokka patterns", body="nothing")
    by_summary = PostFactory(summary="A quokka in the summary", body="nothing")
    by_body = PostFactory(body="The quokka lives here.")
    by_tag = PostFactory(body="nothing", tags=[TagFactory(name="Quokka", slug="quokka")])
    PostFactory(body="unrelated")
    assert set(search.search_posts("quokka")) == {by_title, by_summary, by_body, by_tag}


def test_search_ranks_only_the_newest_matches_on_postgresql(monkeypatch):
    monkeypatch.setattr(search, "RANKED_MATCHES", 2)
    old_title_match = PostFactory(title="Zymurgy handbook", published_at=ago(30))
    newer = PostFactory(body="On zymurgy.", published_at=ago(2))
    newest = PostFactory(body="More zymurgy.", published_at=ago(1))
    results = list(search.search_posts("zymurgy"))
    if connection.vendor == "postgresql":
        # The title match would rank first, but only the two newest are ranked.
        assert results == [newest, newer]
    else:
        assert results == [newest, newer, old_title_match]


def test_search_vectors_follow_tag_renames_on_postgresql():
    tag = TagFactory(name="Okapi", slug="okapi")
    post = PostFactory(body="nothing", tags=[tag])
    services.tag_update(tag=tag, name="Narwhal")
    assert list(search.search_posts("narwhal")) == [post]
    assert list(search.search_posts("okapi")) == []
