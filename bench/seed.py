"""seed_demo for the benchmark, with the one slow step done faster.

seed_demo's last step recomputes every post's stored search vector in one
UPDATE (posts.search.update_search_vectors(None)); on 100k posts that is
minutes of to_tsvector over long bodies. seed_demo reuses a handful of bodies,
so here each distinct body is turned into a vector once and joined back. The
vectors are the same ones update_search_vectors stores (title A, tag names B,
summary B, body C); everything else is seed_demo unchanged.

Usage: python -m bench.seed --posts N --authors A --tags T
"""

import sys

import django

FAST_ALL_SQL = """
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


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from posts import search
    from posts.management.commands import seed_demo

    original = search.update_search_vectors

    def update_search_vectors(post_ids=None) -> None:
        if post_ids is not None or not search.is_postgres():
            original(post_ids)
            return
        with connection.cursor() as cursor:
            cursor.execute(FAST_ALL_SQL, {"cfg": search.CONFIG})

    seed_demo.update_search_vectors = update_search_vectors
    call_command("seed_demo", *sys.argv[1:])


if __name__ == "__main__":
    main()
