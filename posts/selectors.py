"""Cross-model reads for the reader pages. Every query starts at `public()`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db import connection
from django.db.models import Case, Count, OuterRef, Q, QuerySet, Subquery, When
from django.utils import timezone

from accounts.models import AuthorProfile
from posts import counts, search
from posts.models import Authorship, Post, PostTag, Series, Tag
from posts.querysets import PreparedQuery
from posts.querysets import attach_card_data as _attach_card_data

# Bodies are the bulk of a row and no listing shows them.
HEAVY_FIELDS = ("body", "body_html", "search_vector")


def post_cards() -> QuerySet[Post]:
    """Public posts with what a card shows, newest first."""
    return Post.objects.public().latest_first().defer(*HEAVY_FIELDS).with_card_data()


def posts_for_tag(tag: Tag) -> QuerySet[Post]:
    return post_cards().for_tag(tag)


def posts_for_author(author) -> QuerySet[Post]:
    return post_cards().for_author(author)


def posts_in_series(series: Series) -> QuerySet[Post]:
    """The series' public posts with card data, in reading order."""
    return (
        Post.objects.public()
        .filter(series=series)
        .order_by("series_order", "published_at", "pk")
        .defer(*HEAVY_FIELDS)
        .with_card_data()
    )


# The posts a post page links to (neighbours, series, related posts) are read with
# these columns, in one statement (see `surroundings`).
_NEAR_FIELDS = [f for f in Post._meta.concrete_fields if f.name not in HEAVY_FIELDS]

_series_nav = PreparedQuery(
    lambda *, series, now: (
        Post.objects.public(now)
        .filter(series_id=series)
        .order_by("series_order", "published_at", "pk")
        .defer(*HEAVY_FIELDS)
    ),
    series=int,
    now=datetime,
)


def _series_bound(post: Post, now: datetime) -> tuple[str, list]:
    # No series has id 0: a post outside any series reads no rows.
    _model, sql, params = _series_nav.bind(series=post.series_id or 0, now=now)
    return sql, params


def _series_items(post: Post, found: list[Post]) -> list[Post]:
    if post.series_id is None:
        return []
    items = sorted(found, key=lambda p: (p.series_order, p.published_at, p.pk))
    if post.pk not in {p.pk for p in items}:
        items.append(post)
        items.sort(key=lambda p: (p.series_order is None, p.series_order or 0))
    return items


def series_nav(post: Post) -> list[Post]:
    """Every public post of `post`'s series in order (with `post` itself when previewed)."""
    if post.series_id is None:
        return []
    return _series_items(post, list(Post.objects.raw(*_series_bound(post, timezone.now()))))


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
    return Post.objects.filter(Q(pk=Subquery(older)) | Q(pk=Subquery(newer))).defer(*HEAVY_FIELDS)


_adjacent = PreparedQuery(_adjacent_query, pk=int, at=datetime, now=datetime)


def _adjacent_bound(post: Post, now: datetime) -> tuple[str, list]:
    # A post without a date has no neighbours (`_split_adjacent`); any date will do.
    _model, sql, params = _adjacent.bind(pk=post.pk, at=post.published_at or now, now=now)
    return sql, params


def _split_adjacent(post: Post, found: list[Post]) -> tuple[Post | None, Post | None]:
    if post.published_at is None or not post.is_public:
        return None, None
    key = (post.published_at, post.pk)
    before = [p for p in found if (p.published_at, p.pk) < key]
    after = [p for p in found if (p.published_at, p.pk) > key]
    return (before[0] if before else None), (after[0] if after else None)


def adjacent_posts(post: Post) -> tuple[Post | None, Post | None]:
    """(older, newer) neighbours of `post` among public posts, by publication time.

    One query: each neighbour is a subquery walking the listing index from `post`
    and stopping at the first row (`<=`/`>=` with the tie excluded, rather than an
    OR the planner cannot use as a range); the outer query fetches both by pk.
    """
    if post.published_at is None or not post.is_public:
        return None, None
    return _split_adjacent(post, list(Post.objects.raw(*_adjacent_bound(post, timezone.now()))))


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
    columns = ", ".join(f'p."{f.column}"' for f in _NEAR_FIELDS)
    # Only column names from the model are formatted in; every value is bound.
    return f"""
        WITH mine AS (SELECT tag_id FROM posts_posttag WHERE post_id = %s),
        pool AS (
            SELECT newest.post_id, MAX(newest.listed_at) AS listed_at, COUNT(*) AS shared
            FROM mine CROSS JOIN LATERAL (
                SELECT t.post_id, t.listed_at FROM posts_posttag t
                WHERE t.tag_id = mine.tag_id AND t.listed_at <= %s AND t.post_id <> %s
                ORDER BY t.listed_at DESC, t.post_id DESC
                LIMIT %s
            ) newest
            GROUP BY newest.post_id
        ),
        best AS (
            SELECT post_id, listed_at, shared FROM pool
            ORDER BY shared DESC, listed_at DESC, post_id DESC
            LIMIT %s
        )
        SELECT {columns}, best.shared
        FROM best JOIN posts_post p ON p.id = best.post_id
        WHERE p.status = %s AND p.published_at <= %s
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
    return _related_order(list(Post.objects.raw(*_related_bound(post, timezone.now()))))


def _related_bound(post: Post, now: datetime) -> tuple[str, list]:
    if connection.vendor != "postgresql":
        _model, sql, params = _related.bind(pk=post.pk, now=now)
        return sql, params
    published = Post.Status.PUBLISHED.value
    # In the order the SQL names them.
    return _related_pools_sql(), [
        post.pk, now, post.pk, RELATED_POOL, RELATED_POSTS, published, now
    ]  # fmt: skip


def _related_order(found: list[Post]) -> list[Post]:
    # As both queries order them; `listed_at` is `published_at` for public posts.
    return sorted(found, key=lambda p: (p.shared, p.published_at, p.pk), reverse=True)


@dataclass(frozen=True)
class Surroundings:
    """What a post page links to besides the post: its neighbours by date (None
    for a post not public), the posts of its series, its related posts."""

    older: Post | None
    newer: Post | None
    series: list[Post]
    related: list[Post]


def surroundings(post: Post) -> Surroundings:
    """`adjacent_posts`, `series_nav` and `related_posts` of `post`, in one query:
    their three statements as one UNION ALL, each row marked with its part. Each
    statement the post page sends costs it a round trip to PostgreSQL, and under
    load a wait while PostgreSQL gets the CPU: a tenth of a worker's time each.

    Without card data, as `related_posts`."""
    now = timezone.now()
    parts = [_adjacent_bound(post, now), _series_bound(post, now), _related_bound(post, now)]
    columns = ", ".join(f'part."{f.column}"' for f in _NEAR_FIELDS)
    shared = ("CAST(NULL AS BIGINT)", "CAST(NULL AS BIGINT)", "part.shared")
    # Only the parts' SQL (compiled by Django, or _related_pools_sql) and column
    # names from the model are formatted in; every value is bound.
    sql = " UNION ALL ".join(
        f"SELECT {n} AS near_part, {shared[n]} AS shared, {columns} FROM ({part_sql}) part"  # noqa: S608
        for n, (part_sql, _params) in enumerate(parts)
    )
    found: list[list[Post]] = [[], [], []]
    for near in Post.objects.raw(sql, [p for _sql, params in parts for p in params]):
        found[near.__dict__.pop("near_part")].append(near)
    for near in found[0] + found[1]:
        del near.shared  # only related posts have one
    older, newer = _split_adjacent(post, found[0])
    return Surroundings(older, newer, _series_items(post, found[1]), _related_order(found[2]))


def attach_card_data(posts: list[Post]) -> None:
    """Bylines and tag chips for posts fetched without them, one query for all."""
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


_search = PreparedQuery(lambda q, now: search_results(q, now), q=str, now=datetime)


class SearchHits:
    """One search's results for the paginator to slice, on PostgreSQL: each slice
    runs `search_results()`'s SQL, compiled once per process. Building and
    compiling that queryset (a subquery, the rank, the snippet) cost 2.3 ms of
    CPU a search, more than the database's part for a rare word."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.now = timezone.now()

    def __getitem__(self, window: slice) -> list[Post]:
        return _search.instances(window=window, q=self.query, now=self.now)


def search_hits(query: str) -> SearchHits | QuerySet[Post]:
    """What the search page lists: `search_results(query)`, prepared on PostgreSQL.
    (Elsewhere the SQL depends on the number of words, so it is built each time.)"""
    return SearchHits(query) if search.is_postgres() else search_results(query)


def tags_with_public_counts() -> QuerySet[Tag]:
    """Tags that have public posts, A to Z, each with `public_post_count` (stored counts)."""
    return counts.with_public_counts(Tag.objects.all(), PostTag, "tag").order_by("name", "pk")


def authors_with_public_posts():
    """Authors with at least one public post, by name, each with `public_post_count`."""
    return counts.with_public_counts(AuthorProfile.objects.all(), Authorship, "author").order_by(
        "display_name", "pk"
    )


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
