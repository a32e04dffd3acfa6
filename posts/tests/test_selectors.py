from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.utils import timezone

from posts import selectors
from posts.models import Post
from posts.pagination import PeekPaginator, parse_page_number
from posts.querysets import PreparedListing
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def card(post: Post) -> Post:
    return Post.objects.with_card_data().get(pk=post.pk)


def test_post_cards_are_public_newest_first_without_bodies():
    old = PostFactory(published_at=ago(days=2))
    new = PostFactory(published_at=ago(days=1))
    PostFactory(draft=True)
    PostFactory(scheduled=True)
    cards = list(selectors.post_cards())
    assert cards == [new, old]
    assert {"body", "body_html", "search_vector"} <= cards[0].get_deferred_fields()


def test_adjacent_posts_skip_drafts_and_scheduled_and_break_ties_by_id():
    at = ago(days=1)
    first = PostFactory(published_at=at)
    second = PostFactory(published_at=at)
    PostFactory(draft=True)
    PostFactory(scheduled=True)
    third = PostFactory(published_at=ago(hours=2))
    assert selectors.adjacent_posts(second) == (first, third)
    assert selectors.adjacent_posts(first) == (None, second)
    assert selectors.adjacent_posts(third) == (second, None)


def test_adjacent_posts_take_one_query(django_assert_num_queries):
    older, post, newer = (PostFactory(published_at=ago(days=d)) for d in (3, 2, 1))
    with django_assert_num_queries(1):
        assert selectors.adjacent_posts(post) == (older, newer)


def test_related_posts_sharing_one_tag_are_the_newest_among_thousands_of_candidates():
    # Posts sharing only one tag are not all read: only the newest public ones.
    tag, other = TagFactory(), TagFactory()
    post = PostFactory(tags=[tag, other], published_at=ago(days=50))
    candidates = [PostFactory(tags=[tag], published_at=ago(days=d)) for d in range(10, 30)]
    PostFactory(tags=[other], scheduled=True)
    PostFactory(tags=[tag], draft=True)
    two = PostFactory(tags=[other, tag], published_at=ago(days=90))
    assert selectors.related_posts(post) == [two, candidates[0], candidates[1]]


def test_adjacent_posts_of_a_draft_are_none():
    PostFactory()
    assert selectors.adjacent_posts(PostFactory(draft=True)) == (None, None)


def test_related_posts_rank_by_shared_tags_then_recency_and_stop_at_three():
    a, b = TagFactory(), TagFactory()
    post = card(PostFactory(tags=[a, b]))
    both = PostFactory(tags=[b, a], published_at=ago(days=30))
    newest_one = PostFactory(tags=[a], published_at=ago(hours=2))
    older_one = PostFactory(tags=[b], published_at=ago(days=3))
    PostFactory(tags=[a], published_at=ago(days=9))
    PostFactory(tags=[a, b], draft=True)
    assert selectors.related_posts(post) == [both, newest_one, older_one]


def test_related_posts_on_postgresql_come_from_each_tags_newest_posts(monkeypatch):
    # Each tag's newest RELATED_POOL public posts are the candidates there, so a
    # 25,000-post tag costs as little as a small one; SQLite counts every post.
    monkeypatch.setattr(selectors, "RELATED_POOL", 2)
    a, b = TagFactory(), TagFactory()
    post = card(PostFactory(tags=[a, b], published_at=ago(days=60)))
    both_but_old = PostFactory(tags=[a, b], published_at=ago(days=30))
    newer_a = [PostFactory(tags=[a], published_at=ago(days=d)) for d in (1, 3)]
    newer_b = [PostFactory(tags=[b], published_at=ago(days=d)) for d in (2, 4)]
    PostFactory(tags=[a, b], scheduled=True)  # not a candidate, nor does it take a place
    related = selectors.related_posts(post)
    if connection.vendor == "postgresql":
        assert related == [newer_a[0], newer_b[0], newer_a[1]]
    else:
        assert related == [both_but_old, newer_a[0], newer_b[0]]


def test_related_posts_on_postgresql_count_a_shared_tag_where_the_post_is_among_its_newest(
    monkeypatch,
):
    monkeypatch.setattr(selectors, "RELATED_POOL", 2)
    a, b = TagFactory(), TagFactory()
    post = card(PostFactory(tags=[a, b], published_at=ago(days=60)))
    # Among a's two newest, not among b's: it shares b further back.
    both = PostFactory(tags=[a, b], published_at=ago(days=5))
    PostFactory(tags=[a], published_at=ago(days=10))
    newer_b = [PostFactory(tags=[b], published_at=ago(days=d)) for d in (1, 2)]
    related = selectors.related_posts(post)
    if connection.vendor == "postgresql":
        assert related == [newer_b[0], newer_b[1], both]  # one tag each, newest first
    else:
        assert related == [both, newer_b[0], newer_b[1]]  # every post counted: two tags


def test_related_posts_of_an_untagged_post_are_empty():
    PostFactory(tags=[TagFactory()])
    assert selectors.related_posts(card(PostFactory())) == []


def test_related_posts_take_one_query_and_card_data_two_more(django_assert_num_queries):
    tag, other = TagFactory(), TagFactory()
    post = PostFactory(tags=[tag, other])
    for _ in range(3):
        PostFactory(tags=[tag, other], authors=[AuthorFactory(), AuthorFactory()])
    with django_assert_num_queries(1):
        related = selectors.related_posts(post)
    with django_assert_num_queries(2):  # bylines and tags, for the post and its related ones
        selectors.attach_card_data([post, *related])
    with django_assert_num_queries(0):
        assert all(len(p.authorships.all()) == 2 for p in related)
        assert [pt.tag for pt in post.post_tags.all()] == [tag, other]


def test_series_nav_is_in_series_order_and_public_only():
    series = SeriesFactory()
    two = PostFactory(series=series, series_order=2, published_at=ago(days=5))
    one = PostFactory(series=series, series_order=1, published_at=ago(days=1))
    PostFactory(series=series, series_order=3, draft=True)
    assert selectors.series_nav(two) == [one, two]
    assert selectors.series_nav(PostFactory()) == []


def test_series_nav_of_a_previewed_draft_includes_the_draft_in_place():
    series = SeriesFactory()
    one = PostFactory(series=series, series_order=1)
    three = PostFactory(series=series, series_order=3)
    draft = PostFactory(series=series, series_order=2, draft=True)
    assert selectors.series_nav(draft) == [one, draft, three]


def test_tags_with_public_counts_skip_tags_without_public_posts():
    python, rust, empty = (TagFactory(name=n) for n in ("Python", "Rust", "Empty"))
    PostFactory(tags=[python, rust])
    PostFactory(tags=[python])
    PostFactory(tags=[rust], draft=True)
    PostFactory(tags=[empty], scheduled=True)
    assert [(t.name, t.public_post_count) for t in selectors.tags_with_public_counts()] == [
        ("Python", 2),
        ("Rust", 1),
    ]


def test_authors_with_public_posts_counts_only_public_posts():
    ada, bob = AuthorFactory(display_name="Ada"), AuthorFactory(display_name="Bob")
    AuthorFactory(display_name="Cy")  # no posts at all
    PostFactory(authors=[ada, bob])
    PostFactory(authors=[ada])
    PostFactory(authors=[bob], draft=True)
    assert [
        (a.display_name, a.public_post_count) for a in selectors.authors_with_public_posts()
    ] == [
        ("Ada", 2),
        ("Bob", 1),
    ]


def test_search_results_carry_snippets_on_postgresql_only():
    PostFactory(title="On queues", body="Background workers drain the queue at night.")
    [result] = selectors.search_results("workers")
    if connection.vendor == "postgresql":
        assert f"{selectors.MARK_START}workers{selectors.MARK_STOP}" in result.snippet
    else:
        assert not hasattr(result, "snippet")


def test_search_results_skip_the_snippet_when_only_title_summary_or_tags_match():
    PostFactory(title="Quokka facts", summary="Small and cheerful.", body="Nothing else here.")
    PostFactory(title="Marsupials", body="The quokka smiles.", published_at=ago(days=3))
    results = {p.title: p for p in selectors.search_results("quokka")}
    if connection.vendor == "postgresql":
        assert results["Quokka facts"].snippet is None  # the page shows the summary
        assert f"{selectors.MARK_START}quokka{selectors.MARK_STOP}" in results["Marsupials"].snippet
    else:
        assert set(results) == {"Quokka facts", "Marsupials"}


def _shown(posts) -> list[tuple]:
    return [
        (
            p.pk,
            getattr(p, "snippet", None),
            [a.author.display_name for a in p.authorships.all()],
            [t.tag.name for t in p.post_tags.all()],
        )
        for p in posts
    ]


def test_search_hits_page_through_search_results_with_sql_compiled_once(
    django_assert_num_queries,
):
    tag = TagFactory(name="Pipelines")
    for n in range(7):
        PostFactory(
            title=f"Queue {n}" if n % 2 else f"Post {n} on queues",
            body=f"Workers drain the queue, round {n}." if n % 3 else "Nothing to see.",
            published_at=ago(days=n + 1),
            authors=[AuthorFactory(display_name=f"Writer {n}")],
            tags=[tag],
        )
    PostFactory(title="Queue draft", draft=True)
    PostFactory(title="Queue later", scheduled=True)
    hits = selectors.search_hits("queue")
    paginator = PeekPaginator(3)
    pages = []
    for number in ("1", "2", "3"):
        with django_assert_num_queries(3):  # the posts, their bylines, their tags
            pages.append(paginator.page(hits, number))
    expected = list(selectors.search_results("queue"))
    assert len(expected) == 7
    assert [_shown(p.object_list) for p in pages] == [
        _shown(expected[0:3]),
        _shown(expected[3:6]),
        _shown(expected[6:7]),
    ]
    assert [p.has_next for p in pages] == [True, True, False]
    with pytest.raises(Http404):
        paginator.page(hits, "4")
    if connection.vendor == "postgresql":
        assert isinstance(hits, PreparedListing)
        assert all(p.snippet is None or selectors.MARK_START in p.snippet for p in expected)
        # Another search reuses the SQL compiled for the first.
        compiled = selectors._search._compiled["default"]
        assert _shown(selectors.search_hits("writer")[0:10]) == _shown(
            selectors.search_results("writer")
        )
        assert selectors._search._compiled["default"] is compiled
    else:
        assert hits.model is Post  # the queryset itself: its SQL depends on the words


@pytest.mark.parametrize("raw", ["0", "-3", "x", "2.0", "", None, "100001"])
def test_parse_page_number_accepts_only_positive_integers(raw):
    if raw in ("", None):
        assert parse_page_number(raw) == 1
    else:
        with pytest.raises(Http404):
            parse_page_number(raw)


def test_peek_paginator_reads_one_extra_row_to_know_about_the_next_page():
    rows = list(range(25))
    page = PeekPaginator(10).page(rows, "2")
    assert list(page) == list(range(10, 20))
    assert page.has_next and page.has_previous
    last = PeekPaginator(10).page(rows, "3")
    assert list(last) == [20, 21, 22, 23, 24] and not last.has_next
    with pytest.raises(Http404):
        PeekPaginator(10).page(rows, "4")
    assert list(PeekPaginator(10).page([], "1")) == []


def test_deep_pages_hold_the_same_posts_as_a_plain_offset_would(
    monkeypatch, django_assert_num_queries
):
    from posts import pagination

    author, tag = AuthorFactory(), TagFactory()
    for n in range(9):
        PostFactory(title=f"Deep {n}", published_at=ago(hours=n), authors=[author], tags=[tag])
    listings = [
        selectors.post_cards(),
        selectors.posts_for_tag(tag),
        selectors.listing(),
        selectors.listing("tag", tag.pk),
        selectors.listing("author", author.pk),
    ]
    expected = [[p.pk for p in qs[4:7]] for qs in listings[:2]] * 2 + [
        [p.pk for p in listings[1][4:7]]
    ]
    monkeypatch.setattr(pagination, "LATE_LOOKUP_OFFSET", 4)  # page 3 of 2 a page: offset 4
    for qs, want in zip(listings, expected, strict=True):
        with django_assert_num_queries(3):  # the posts, then their bylines and tags
            page = PeekPaginator(2).page(qs, "3")
        assert [p.pk for p in page] == want[:2]
        assert page.has_next
        assert [a.author for a in page.object_list[0].authorships.all()] == [author]


def test_listings_page_like_their_querysets_with_sql_compiled_once(django_assert_num_queries):
    ada, bo = AuthorFactory(display_name="Ada"), AuthorFactory(display_name="Bo")
    tag, other = TagFactory(name="Queues"), TagFactory(name="Other")
    for n in range(7):
        PostFactory(
            published_at=ago(hours=n + 1),
            authors=[ada, bo] if n % 2 else [bo],
            tags=[tag] if n % 3 else [tag, other],
        )
    PostFactory(draft=True, authors=[ada], tags=[tag])
    PostFactory(scheduled=True, authors=[ada], tags=[tag])
    cases = [
        (selectors.listing(), selectors.post_cards()),
        (selectors.listing("tag", tag.pk), selectors.posts_for_tag(tag)),
        (selectors.listing("author", ada.pk), selectors.posts_for_author(ada)),
        (selectors.listing("tag", other.pk), selectors.posts_for_tag(other)),
    ]
    paginator = PeekPaginator(3)
    for listing, queryset in cases:
        expected = list(queryset)
        assert expected, "every case lists something"
        for number in ("1", "2", "3"):
            start = (int(number) - 1) * 3
            if start >= len(expected):
                with pytest.raises(Http404):
                    paginator.page(listing, number)
                continue
            with django_assert_num_queries(3):  # the posts, their bylines, their tags
                page = paginator.page(listing, number)
            assert _shown(page.object_list) == _shown(expected[start : start + 3])
            assert page.has_next == (len(expected) > start + 3)
            assert {"body", "body_html", "search_vector"} <= page.object_list[
                0
            ].get_deferred_fields()
    # Compiled once per listing and what it leaves out: another tag reuses the SQL.
    compiled = selectors._listing_query("tag", selectors.HEAVY_FIELDS)._compiled["default"]
    assert _shown(selectors.listing("tag", other.pk)[0:10]) == _shown(
        selectors.posts_for_tag(other)
    )
    assert selectors._listing_query("tag", selectors.HEAVY_FIELDS)._compiled["default"] is compiled
    # A feed's listing keeps the HTML body.
    feed = selectors.listing(defer=("body", "search_vector"))[0:2]
    assert feed[0].body_html and "body_html" not in feed[0].get_deferred_fields()
