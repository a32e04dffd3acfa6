"""Cross-model reads for the reader pages. Every query starts at `public()`."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from accounts.models import AuthorProfile
from posts import counts, search
from posts.models import Authorship, Post, PostTag, Series, Tag
from posts.querysets import (
    AUTHOR_CARD_FIELDS,
    TAG_CARD_FIELDS,
    PreparedListing,
    PreparedQuery,
    prepared,
)
from posts.querysets import attach_card_data as _attach_card_data

# What a link to a post (prev/next, series nav) needs; no bodies.
LINK_FIELDS = ("id", "title", "slug", "published_at", "series_order", "reading_minutes")
# Bodies are the bulk of a row and no listing shows them.
HEAVY_FIELDS = ("body", "body_html", "search_vector")


def post_cards(at: datetime | None = None, *, defer=HEAVY_FIELDS) -> QuerySet[Post]:
    """Public posts with what a card shows, newest first."""
    return Post.objects.public(at).latest_first().defer(*defer).with_card_data()


def posts_for_tag(tag: Tag | int, at: datetime | None = None, *, defer=HEAVY_FIELDS):
    return post_cards(at, defer=defer).for_tag(tag, at)


def posts_for_author(author, at: datetime | None = None, *, defer=HEAVY_FIELDS):
    return post_cards(at, defer=defer).for_author(author, at)


# The reader listings (home, a tag's, an author's), each compiled once per process
# for what it leaves out: cards defer HEAVY_FIELDS, feeds need the HTML body.
_LISTINGS = {"all": post_cards, "tag": posts_for_tag, "author": posts_for_author}


@cache
def _listing_query(subject: str, defer: tuple[str, ...]) -> PreparedQuery:
    if subject == "all":
        return PreparedQuery(lambda *, now: post_cards(now, defer=defer), now=datetime)
    listing = _LISTINGS[subject]
    return PreparedQuery(lambda *, pk, now: listing(pk, now, defer=defer), pk=int, now=datetime)


def listing(subject: str = "all", pk: int | None = None, *, defer=HEAVY_FIELDS) -> PreparedListing:
    """Public posts with card data, newest first: every one ("all"), or a tag's or an
    author's (`pk`), for the paginator to slice. Each page runs the listing's SQL
    compiled once per process (building and compiling it cost 1.1 ms of a 5.4 ms
    home listing), prepared on the server; deep pages use the queryset."""
    now = timezone.now()
    values = {"now": now} if subject == "all" else {"pk": pk, "now": now}
    return PreparedListing(
        _listing_query(subject, tuple(defer)),
        queryset=lambda: _LISTINGS[subject](*values.values(), defer=defer),
        **values,
    )


def posts_in_series(series: Series) -> QuerySet[Post]:
    """The series' public posts with card data, in reading order."""
    return (
        Post.objects.public()
        .filter(series=series)
        .order_by("series_order", "published_at", "pk")
        .defer(*HEAVY_FIELDS)
        .with_card_data()
    )


_series_nav = PreparedQuery(
    lambda *, series, now: (
        Post.objects.public(now)
        .filter(series_id=series)
        .order_by("series_order", "published_at", "pk")
        .only(*LINK_FIELDS)
    ),
    series=int,
    now=datetime,
)


def series_nav(post: Post) -> list[Post]:
    """Every public post of `post`'s series in order (with `post` itself when previewed)."""
    if post.series_id is None:
        return []
    items = list(_series_nav.raw(series=post.series_id, now=timezone.now()))
    if post.pk not in {p.pk for p in items}:
        items.append(post)
        items.sort(key=lambda p: (p.series_order is None, p.series_order or 0))
    return items


def _adjacent_query(*, pk: int, at: datetime, now: datetime) -> QuerySet[Post]:
    public = Post.objects.public(now)
    older = (
        public.filter(published_at__lte=at)
        .exclude(published_at=at, pk__gte=pk)
        .order_by("-published_at", "-pk")
        .values("pk")[:1]
    )
    newer = (
        public.filter(published_at__gte=at)
        .exclude(published_at=at, pk__lte=pk)
        .order_by("published_at", "pk")
        .values("pk")[:1]
    )
    return Post.objects.filter(Q(pk=Subquery(older)) | Q(pk=Subquery(newer))).only(*LINK_FIELDS)


_adjacent = PreparedQuery(_adjacent_query, pk=int, at=datetime, now=datetime)


def adjacent_posts(post: Post) -> tuple[Post | None, Post | None]:
    """(older, newer) neighbours of `post` among public posts, by publication time.

    One query: each neighbour is a subquery walking the listing index from `post`
    and stopping at the first row (`<=`/`>=` with the tie excluded, rather than an
    OR the planner cannot use as a range); the outer query fetches both by pk.
    """
    if post.published_at is None or not post.is_public:
        return None, None
    key = (post.published_at, post.pk)
    found = list(_adjacent.raw(pk=post.pk, at=post.published_at, now=timezone.now()))
    before = [p for p in found if (p.published_at, p.pk) < key]
    after = [p for p in found if (p.published_at, p.pk) > key]
    return (before[0] if before else None), (after[0] if after else None)


RELATED_POSTS = 3


def _related_query(*, pk: int, now: datetime) -> QuerySet[Post]:
    """The related-posts rule over every post of the tags (backends without LATERAL).

    Two sets are looked at: posts sharing two tags or more (counted on the through
    table's index alone) and the newest public posts sharing any tag (found walking
    the listing index). The answer is always among them: the posts sharing one tag
    that make the cut are the newest ones."""
    tags = PostTag.objects.filter(post_id=pk).values("tag_id")
    sharing = PostTag.objects.filter(tag_id__in=tags).exclude(post_id=pk)
    several = (
        sharing.order_by()
        .values("post_id")
        .annotate(n=Count("*"))
        .filter(n__gte=2)
        .values("post_id")
    )
    newest = (
        Post.objects.public(now)
        .filter(pk__in=sharing.values("post_id"))
        .order_by("-published_at", "-pk")
        .values("pk")[:RELATED_POSTS]
    )
    # Wrapped once more: a LIMIT inside a UNION is not allowed on every backend.
    # (An OR of the two INs instead of the union is planned as a scan of all posts.)
    candidates = several.union(Post.objects.filter(pk__in=newest).order_by().values("pk"), all=True)
    shared = (
        PostTag.objects.filter(post_id=OuterRef("pk"), tag_id__in=tags)
        .order_by()
        .values("post_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Post.objects.public(now)
        .filter(pk__in=candidates)
        .annotate(shared=Subquery(shared))
        .order_by("-shared", "-published_at", "-pk")
        .defer(*HEAVY_FIELDS)[:RELATED_POSTS]
    )


_related = PreparedQuery(_related_query, pk=int, now=datetime)

# How many of each tag's newest public posts are candidates (PostgreSQL).
RELATED_POOL = 50


@cache
def _related_pools_sql() -> str:
    """Related posts among the newest RELATED_POOL public posts of each of the post's
    tags, each pool one range of the (tag, listed_at) index (LATERAL, PostgreSQL).
    A candidate's shared tags are counted in the pools it is in: counting them
    over all its tag rows again cost 0.65 ms of the query's 1.45 ms."""
    columns = ", ".join(
        f'p."{f.column}"' for f in Post._meta.concrete_fields if f.name not in HEAVY_FIELDS
    )
    # Only column names from the model are formatted in; every value is bound.
    return f"""
        WITH mine AS (SELECT tag_id FROM posts_posttag WHERE post_id = %(pk)s),
        pool AS (
            SELECT newest.post_id, MAX(newest.listed_at) AS listed_at, COUNT(*) AS shared
            FROM mine CROSS JOIN LATERAL (
                SELECT t.post_id, t.listed_at FROM posts_posttag t
                WHERE t.tag_id = mine.tag_id AND t.listed_at <= %(now)s AND t.post_id <> %(pk)s
                ORDER BY t.listed_at DESC, t.post_id DESC
                LIMIT %(pool)s
            ) newest
            GROUP BY newest.post_id
        ),
        best AS (
            SELECT post_id, listed_at, shared FROM pool
            ORDER BY shared DESC, listed_at DESC, post_id DESC
            LIMIT %(limit)s
        )
        SELECT {columns}, best.shared
        FROM best JOIN posts_post p ON p.id = best.post_id
        WHERE p.status = %(published)s AND p.published_at <= %(now)s
        ORDER BY best.shared DESC, best.listed_at DESC, best.post_id DESC
    """  # noqa: S608


def related_posts(post: Post) -> list[Post]:
    """Public posts sharing the most tags with `post`, then the most recent; one query.

    On PostgreSQL the candidates are the newest RELATED_POOL public posts of each of
    `post`'s tags, read off the tag rows' (tag, listed_at) index: a few hundred
    index entries whatever the tags' sizes (a post in a 25,000-post tag took 150 ms
    when every post of its tags was counted). A candidate shares a tag when it is
    among that tag's newest: one sharing a tag further back counts it only there.
    Where every tag has fewer public posts than RELATED_POOL, this is the whole
    rule. Elsewhere (SQLite: small sites) the same rule counts every post of the
    tags, see `_related_query`.

    Without card data: `attach_card_data()` fetches it for these and the page's
    own post together.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        return list(_related.raw(pk=post.pk, now=now))
    params = {
        "pk": post.pk,
        "now": now,
        "pool": RELATED_POOL,
        "published": Post.Status.PUBLISHED.value,
        "limit": RELATED_POSTS,
    }
    with prepared():
        return list(Post.objects.raw(_related_pools_sql(), params))


def attach_card_data(posts: list[Post]) -> None:
    """Bylines and tag chips for posts fetched without them, two queries for all."""
    _attach_card_data(posts)


# ts_headline marks matches with these; the template escapes the text, then turns
# them into <mark>, so a body's own markup can never reach the page.
MARK_START, MARK_STOP = "\u27ea", "\u27eb"


def search_results(query: str, at: datetime | None = None) -> QuerySet[Post]:
    """`search_posts()` with card data; on PostgreSQL each result also has `snippet`
    (None when the words are in its title, summary or tags only)."""
    results = search.search_posts(query, at).defer(*HEAVY_FIELDS).with_card_data()
    if search.is_postgres():
        ts_query = SearchQuery(query, search_type="websearch", config=search.CONFIG)
        headline = SearchHeadline(
            "body",
            ts_query,
            config=search.CONFIG,
            start_sel=MARK_START,
            stop_sel=MARK_STOP,
            max_words=35,
            min_words=15,
            max_fragments=2,
            fragment_delimiter=" … ",
        )
        # ts_headline parses the whole body, match or not (~0.3 ms a post): only
        # where the stored vector's body part (weight C) matches; the page shows
        # the summary otherwise, as it does for a headline without a match.
        results = results.alias(body_terms=search.body_terms()).annotate(
            snippet=Case(When(body_terms=ts_query, then=headline), default=None)
        )
    return results


# Bound and planned for each search's words (not prepared on the server): a word in
# most posts and a rare one want different plans, and one generic plan took a
# common word from 21 to 206 ms.
_search = PreparedQuery(lambda q, now: search_results(q, now), on_server=False, q=str, now=datetime)


def search_hits(query: str) -> PreparedListing | QuerySet[Post]:
    """What the search page lists: `search_results(query)`, its SQL compiled once
    per process on PostgreSQL. Building and compiling that queryset (a subquery,
    the rank, the snippet) cost 2.3 ms of CPU a search, more than the database's
    part for a rare word. (Elsewhere the SQL depends on the number of words, so
    it is built each time.)"""
    if not search.is_postgres():
        return search_results(query)
    return PreparedListing(_search, q=query, now=timezone.now())


def tags_with_public_counts() -> QuerySet[Tag]:
    """Tags that have public posts, A to Z, each with `public_post_count` (stored
    counts), with what a tag chip shows (no descriptions)."""
    tags = Tag.objects.only(*TAG_CARD_FIELDS)
    return counts.with_public_counts(tags, PostTag, "tag").order_by("name", "pk")


def authors_with_public_posts():
    """Authors with at least one public post, by name, each with `public_post_count`,
    with what an author card shows: a page of 100 spent a third of its CPU loading
    and hashing bios, links and timestamps it does not show."""
    authors = AuthorProfile.objects.only(*AUTHOR_CARD_FIELDS)
    return counts.with_public_counts(authors, Authorship, "author").order_by("display_name", "pk")


def seconds_until_next_scheduled_post() -> int | None:
    """Seconds until the next scheduled post goes live (the page cache's TTL cap)."""
    first = (
        Post.objects.scheduled()
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    if first is None:
        return None
    return max(1, int((first - timezone.now()).total_seconds()) + 1)
