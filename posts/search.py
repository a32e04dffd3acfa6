"""Full-text search: a weighted, stored tsvector on PostgreSQL; icontains elsewhere."""

from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import F, Func, Q, QuerySet

from posts.models import Post

CONFIG = "english"
# How many of the newest matching posts a search ranks.
RANKED_MATCHES = 200


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


# Title A, tag names B, summary B, body C (body_terms() relies on it).
_UPDATE_SQL = """
UPDATE posts_post p SET search_vector =
    setweight(to_tsvector(%(cfg)s, coalesce(p.title, '')), 'A')
 || setweight(to_tsvector(%(cfg)s, coalesce((
        SELECT string_agg(t.name, ' ') FROM posts_posttag pt
        JOIN posts_tag t ON t.id = pt.tag_id WHERE pt.post_id = p.id), '')), 'B')
 || setweight(to_tsvector(%(cfg)s, coalesce(p.summary, '')), 'B')
 || setweight(to_tsvector(%(cfg)s, coalesce(p.body, '')), 'C')
 WHERE p.id = ANY(%(ids)s)
"""
# The same vectors for every post at once (seeding, imports): each distinct body
# is parsed once and tag names are aggregated in one pass, not once per row.
_UPDATE_ALL_SQL = """
WITH bodies AS (
    SELECT body, setweight(to_tsvector(%(cfg)s, coalesce(body, '')), 'C') AS v
      FROM (SELECT DISTINCT body FROM posts_post) d
), names AS (
    SELECT pt.post_id, string_agg(t.name, ' ') AS names
      FROM posts_posttag pt JOIN posts_tag t ON t.id = pt.tag_id GROUP BY pt.post_id
)
UPDATE posts_post p SET search_vector =
    setweight(to_tsvector(%(cfg)s, coalesce(p.title, '')), 'A')
 || setweight(to_tsvector(%(cfg)s, coalesce(n.names, '')), 'B')
 || setweight(to_tsvector(%(cfg)s, coalesce(p.summary, '')), 'B')
 || b.v
  FROM bodies b, posts_post p2 LEFT JOIN names n ON n.post_id = p2.id
 WHERE p2.id = p.id AND b.body IS NOT DISTINCT FROM p.body
"""


def analyze(tables: list[str]) -> None:
    """Fresh planner statistics for `tables` (PostgreSQL; a no-op elsewhere)."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {', '.join(tables)}")


def update_search_vectors_for_tags(tag_ids) -> None:
    """Recompute the vectors of every post carrying one of `tag_ids`, in one statement."""
    if is_postgres() and tag_ids:
        sql = _UPDATE_SQL.replace(
            "WHERE p.id = ANY(%(ids)s)",
            "WHERE p.id IN (SELECT post_id FROM posts_posttag WHERE tag_id = ANY(%(tags)s))",
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, {"cfg": CONFIG, "tags": list(tag_ids)})


def update_search_vectors(post_ids=None) -> None:
    """Recompute the stored vectors of `post_ids` (None: every post). PostgreSQL only."""
    if not is_postgres():
        return
    with connection.cursor() as cursor:
        if post_ids is None:
            cursor.execute(_UPDATE_ALL_SQL, {"cfg": CONFIG})
            # Every search scans the index's pending list: fold it into the index now.
            cursor.execute("SELECT gin_clean_pending_list('post_search_vector_gin'::regclass)")
        elif post_ids:
            cursor.execute(_UPDATE_SQL, {"cfg": CONFIG, "ids": list(post_ids)})


def body_terms() -> Func:
    """The body's part of the stored vector (weight C), for `@@` tests."""
    return Func(
        F("search_vector"),
        function="ts_filter",
        template="%(function)s(%(expressions)s, '{c}')",
        output_field=SearchVectorField(),
    )


def search_posts(query: str, at: datetime | None = None) -> QuerySet:
    """Public posts (at `at`, default now) matching `query`, best first."""
    posts = Post.objects.public(at)
    if is_postgres():
        q = SearchQuery(query, search_type="websearch", config=CONFIG)
        # Rank the newest matches only: a word in every post would otherwise make
        # each search rank the whole archive.
        newest = posts.filter(search_vector=q).latest_first().values("pk")[:RANKED_MATCHES]
        return (
            Post.objects.filter(pk__in=newest)
            # F(): rank the stored, weighted vector (a plain string would be
            # re-parsed as text, losing the A/B/C weights).
            .annotate(rank=SearchRank(F("search_vector"), q))
            .order_by("-rank", "-published_at", "-pk")
        )
    words = query.split()
    cond = Q()
    for word in words:
        cond &= (
            Q(title__icontains=word)
            | Q(summary__icontains=word)
            | Q(body__icontains=word)
            | Q(post_tags__tag__name__icontains=word)
        )
    return posts.filter(cond).distinct().latest_first()
