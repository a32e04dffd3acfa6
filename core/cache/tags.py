"""Names for what a cached page shows. A page is dropped when any of its tags is.

`posts` stands for the membership and order of the public post list: home,
archives, feeds, sitemap, prev/next and related posts all depend on it.
"""

POSTS = "posts"
TAGS = "tags"
AUTHORS = "authors"


def post(pk: int) -> str:
    return f"p{pk}"


def tag(pk: int) -> str:
    return f"t{pk}"


def author(pk: int) -> str:
    return f"a{pk}"


def series(pk: int) -> str:
    return f"s{pk}"


def for_posts(posts) -> set[str]:
    """Tags for posts shown with their card data (bylines, tags, series)."""
    out: set[str] = set()
    for p in posts:
        out.add(post(p.pk))
        out.update(author(a.author_id) for a in p.authorships.all())
        out.update(tag(t.tag_id) for t in p.post_tags.all())
        if p.series_id:
            out.add(series(p.series_id))
    return out
