"""The writer of the mixed workload: retitle a post once a second, through posts.services.

The same service the admin calls, so derived data and the page cache are
refreshed exactly as in production. After each save has committed, one
JSON line goes to stdout for bench/checker.py: which post, its old and new
title, and the pages that show it.
"""

import argparse
import json
import sys
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slugs", required=True, help="comma-separated post slugs to edit in turn")
    parser.add_argument("--edits", type=int, default=25)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--run-id", default=str(int(time.time())))
    args = parser.parse_args()
    django.setup()
    from posts import services
    from posts.models import Post

    slugs = [s for s in args.slugs.split(",") if s]
    # Demo titles repeat (a few hundred among 100k posts): an old title still on a
    # page may belong to another post. Give each target a title of its own first,
    # unreported, so every reported edit replaces a title no other post has.
    for slug in slugs:
        post = Post.objects.get(slug=slug)
        services.post_update(post=post, title=f"Bench start {args.run_id} {slug}")
    time.sleep(args.interval)
    start = time.monotonic()
    for n in range(min(args.edits, 600)):
        post = Post.objects.get(slug=slugs[n % len(slugs)])
        old = post.title
        # Zero-padded and unique: no title is ever a substring of another.
        title = f"Bench edit {args.run_id} #{n:04d}"
        t0 = time.perf_counter()
        # Atomic: committed, and on_commit invalidation done, on return.
        services.post_update(post=post, title=title)
        save_ms = (time.perf_counter() - t0) * 1000
        primary_tag = post.post_tags.order_by("position").select_related("tag").first()
        first_author = post.authorships.order_by("position").select_related("author").first()
        line = {
            "n": n,
            "slug": post.slug,
            "old": old,
            "new": post.title,
            "save_ms": round(save_ms, 2),
            "tag": primary_tag.tag.slug if primary_tag else None,
            "author": first_author.author.handle if first_author else None,
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        # Keep to one edit per interval, however long the save took.
        time.sleep(max(0.0, start + (n + 1) * args.interval - time.monotonic()))


if __name__ == "__main__":
    main()
