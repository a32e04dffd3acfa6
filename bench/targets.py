"""Pick the URLs the benchmark requests, from whatever the seeded database holds.

Prints JSON: the latest public posts (their pages are the hot ones), tags and
authors those posts show, and a word that occurs in titles (for /search/).
"""

import json
import re
from collections import Counter

import django


def main() -> None:
    django.setup()
    from posts.models import Authorship, Post, PostTag

    posts = list(Post.objects.public().latest_first().values("pk", "slug", "title")[:10])
    if not posts:
        raise SystemExit("targets: no public posts; did seeding fail?")
    ids = [p["pk"] for p in posts]
    tags, authors = [], []
    for pt in PostTag.objects.filter(post_id__in=ids, position=0).select_related("tag"):
        if pt.tag.slug not in tags:
            tags.append(pt.tag.slug)
    for a in Authorship.objects.filter(post_id__in=ids, position=0).select_related("author"):
        if a.author.handle not in authors:
            authors.append(a.author.handle)
    titles = Post.objects.public().latest_first().values_list("title", flat=True)[:50]
    words = Counter(w for t in titles for w in re.findall(r"[a-z]{5,}", t.lower()))
    word = words.most_common(1)[0][0] if words else "django"
    print(
        json.dumps(
            {
                "posts": [p["slug"] for p in posts],
                "tags": tags[:4],
                "authors": authors[:4],
                "search_word": word,
                "public_posts": Post.objects.public().count(),
            }
        )
    )


if __name__ == "__main__":
    main()
