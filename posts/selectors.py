"""Cross-model reads for the reader pages. Every query starts at `public()`."""

from __future__ import annotations

from django.contrib.postgres.search import SearchHeadline, SearchQuery
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import AuthorProfile
from posts import counts, search
from posts.models import Authorship, Post, PostTag, Series, Tag

# What a link to a post (prev/next, series nav) needs; no bodies.
LINK_FIELDS = ("id", "title", "slug", "published_at", "series_order", "reading_minutes")
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


def series_nav(post: Post) -> list[Post]:
    """Every public post of `post`'s series in order (with `post` itself when previewed)."""
    if post.series_id is None:
        return []
    items = list(
        Post.objects.public()
        .filter(series_id=post.series_id)
        .order_by("series_order", "published_at", "pk")
        .only(*LINK_FIELDS)
    )
    if post.pk not in {p.pk for p in items}:
        items.append(post)
        items.sort(key=lambda p: (p.series_order is None, p.series_order or 0))
    return items


def adjacent_posts(post: Post) -> tuple[Post | None, Post | None]:
    """(older, newer) neighbours of `post` among public posts, by publication time.

    Each is a range on the listing index that stops at the first row: `<=`/`>=`
    with the tie excluded, rather than an OR the planner cannot use as a range.
    """
    if post.published_at is None or not post.is_public:
        return None, None
    at, pk = post.published_at, post.pk
    public = Post.objects.public().only(*LINK_FIELDS)
    older = (
        public.filter(published_at__lte=at)
        .exclude(published_at=at, pk__gte=pk)
        .order_by("-published_at", "-pk")
        .first()
    )
    newer = (
        public.filter(published_at__gte=at)
        .exclude(published_at=at, pk__lte=pk)
        .order_by("published_at", "pk")
        .first()
    )
    return older, newer


# Related posts are picked among this many candidates with the most shared tags
# (ties: newest first), counted on the through table alone.
RELATED_CANDIDATES = 24


def related_posts(post: Post, limit: int = 3) -> list[Post]:
    """Public posts sharing the most tags with `post`, then the most recent.

    The counting runs on PostTag alone (its (tag, post) index, no join to posts),
    so it costs the same on a big archive; card data follows for the few winners.
    Reads `post.post_tags`, prefetched.
    """
    tag_ids = [pt.tag_id for pt in post.post_tags.all()]
    if not tag_ids:
        return []
    shared = dict(
        PostTag.objects.filter(tag_id__in=tag_ids)
        .exclude(post_id=post.pk)
        .values("post_id")
        .annotate(n=Count("*"))  # COUNT(*): an index-only scan, no heap reads
        .order_by("-n", "-post_id")
        .values_list("post_id", "n")[:RELATED_CANDIDATES]
    )
    dated = Post.objects.public().filter(pk__in=shared).values_list("pk", "published_at")
    ranked = sorted(dated, key=lambda r: (shared[r[0]], r[1], r[0]), reverse=True)
    winners = [pk for pk, _ in ranked[:limit]]
    cards = Post.objects.filter(pk__in=winners).defer(*HEAVY_FIELDS).with_card_data().in_bulk()
    return [cards[pk] for pk in winners]


# ts_headline marks matches with these; the template escapes the text, then turns
# them into <mark>, so a body's own markup can never reach the page.
MARK_START, MARK_STOP = "\u27ea", "\u27eb"


def search_results(query: str) -> QuerySet[Post]:
    """`search_posts()` with card data; on PostgreSQL each result also has `snippet`."""
    results = search.search_posts(query).defer(*HEAVY_FIELDS).with_card_data()
    if search.is_postgres():
        ts_query = SearchQuery(query, search_type="websearch", config=search.CONFIG)
        results = results.annotate(
            snippet=SearchHeadline(
                "body",
                ts_query,
                config=search.CONFIG,
                start_sel=MARK_START,
                stop_sel=MARK_STOP,
                max_words=35,
                min_words=15,
                max_fragments=2,
                fragment_delimiter=" … ",
            ),
        )
    return results


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
