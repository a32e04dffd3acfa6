"""The author of `make soak`: every few seconds one write through posts.services,
in turn a retitle, a re-tag, a schedule (the post leaves the site) and a publish
(it comes back at the top), over a handful of the latest posts.

`run` checks, right after each edit commits and before the next one, the pages
the edit changed, as an anonymous reader over HTTP (so through the page cache):
what the reader must now see on which page (`expect`: path -> status, text that
must and must not be there). It prints one JSON line per committed edit with
those verdicts, for bench/soak_run.py's report. A write that fails
because PostgreSQL is restarting is retried until it commits (and the seconds
lost are reported); one that never commits within --retry-for is reported as
failed, not as made.

`verify` re-reads every edited post from the database and compares its title,
tags and status with what the last committed edit of that post wrote.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
import urllib.error
import urllib.request
from datetime import timedelta

import django


def committed(write, *, retry_for: float):
    """Run `write` in a transaction until it commits; (result, attempts)."""
    from django.db import InterfaceError, OperationalError, connection, transaction

    deadline = time.monotonic() + retry_for
    attempts = 0
    while True:
        attempts += 1
        try:
            with transaction.atomic():
                return write(), attempts
        except (OperationalError, InterfaceError):
            # PostgreSQL restarting: the transaction rolled back; a fresh connection next time.
            connection.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def fetch(url: str, timeout: float = 30) -> tuple[int, str, str]:
    """(status, X-Page-Cache, body); status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.headers.get("X-Page-Cache", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("X-Page-Cache", ""), ""
    except OSError as exc:
        return 0, "", str(exc)


def verdict(expect: dict, status: int, body: str) -> str:
    """fresh, stale (the page contradicts the committed edit) or error (5xx, no answer)."""
    if status == 0 or status >= 500:
        return "error"
    if status != expect["status"]:
        return "stale"
    if any(text not in body for text in expect["has"]):
        return "stale"
    if any(text in body for text in expect["lacks"]):
        return "stale"
    return "fresh"


def check(base: str, expect: dict[str, dict]) -> list[dict]:
    checks = []
    for path, wanted in expect.items():
        at = time.time()
        status, cache, body = fetch(base + path)
        checks.append({
            "path": path, "at": at, "ms": round((time.time() - at) * 1000, 1),
            "status": status, "cache": cache, "verdict": verdict(wanted, status, body),
        })  # fmt: skip
    return checks


def state(post) -> dict:
    from posts.models import Post

    public = post.status == Post.Status.PUBLISHED and post.published_at <= django_now()
    return {
        "title": post.title,
        "tags": sorted(post.post_tags.values_list("tag__slug", flat=True)),
        "status": "public" if public else "not public",
    }


def django_now():
    from django.utils import timezone

    return timezone.now()


def run(args) -> None:
    from posts import services
    from posts.models import Post

    slugs = [s for s in args.slugs.split(",") if s][: args.posts]
    # Stable keys: a retitle may move a slug, the primary key never moves.
    pks = list(Post.objects.filter(slug__in=slugs).values_list("pk", flat=True))
    soak_tag: dict[int, str] = {}  # post -> the soak tag it has now
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < args.seconds:
        pk = pks[(n // 4) % len(pks)]
        kind = ("retitle", "retag", "schedule", "publish")[n % 4]
        t0 = time.monotonic()

        def write(kind=kind, pk=pk, n=n):
            post = Post.objects.select_for_update().get(pk=pk)
            old_title = post.title
            if kind == "retitle":
                # Zero-padded and unique: no title is a substring of another.
                services.post_update(post=post, title=f"Soak edit {args.run_id} #{n:04d}")
            elif kind == "retag":
                tag = services.tag_get_or_create(name=f"Soak {args.run_id} tag {n:04d}")
                keep = [pt.tag for pt in post.post_tags.select_related("tag") if pt.is_primary]
                keep = [t for t in keep if not t.name.startswith("Soak ")]
                services.post_set_tags(post=post, tags=[tag, *keep])
            elif kind == "schedule":
                services.post_schedule(post=post, at=django_now() + timedelta(days=30))
            else:
                services.post_publish(post=post)
            post.refresh_from_db()
            return post, old_title

        try:
            (post, old_title), attempts = committed(write, retry_for=args.retry_for)
        except Exception as exc:  # noqa: BLE001 - reported, the run goes on
            line = {"n": n, "kind": kind, "pk": pk, "failed": f"{exc.__class__.__name__}: {exc}"}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            n += 1
            continue
        seconds = time.monotonic() - t0
        title = html.escape(post.title)
        path = f"/posts/{post.slug}/"
        expect: dict[str, dict] = {}
        if kind == "retitle":
            gone = [html.escape(old_title)] if old_title.startswith("Soak edit ") else []
            expect[path] = {"status": 200, "has": [title], "lacks": gone}
            # Lists that show the post show the new title (or do not show it).
            for other in post_lists(post):
                expect[other] = {"status": 200, "has": [], "lacks": gone}
        elif kind == "retag":
            new = next(t for t in state(post)["tags"] if t.startswith("soak-"))
            lacks = [f"/tags/{soak_tag[pk]}/"] if pk in soak_tag else []
            soak_tag[pk] = new
            expect[path] = {"status": 200, "has": [f"/tags/{new}/"], "lacks": lacks}
            expect[f"/tags/{new}/"] = {"status": 200, "has": [title], "lacks": []}
        elif kind == "schedule":
            lacks = [title] if post.title.startswith("Soak edit ") else []
            expect[path] = {"status": 404, "has": [], "lacks": []}
            expect["/"] = {"status": 200, "has": [], "lacks": lacks}
        else:
            expect[path] = {"status": 200, "has": [title], "lacks": []}
            expect["/"] = {"status": 200, "has": [title], "lacks": []}
        line = {
            "n": n,
            "kind": kind,
            "pk": pk,
            "at": time.time(),
            "seconds": round(seconds, 3),
            "attempts": attempts,
            "state": state(post),
            "expect": expect,
            # Before the next edit: a check can only see this edit or none newer.
            "checks": check(args.base, expect),
        }
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
        n += 1
        # One edit per interval, however long the last one took.
        time.sleep(max(0.0, start + n * args.interval - time.monotonic()))


def post_lists(post) -> list[str]:
    """The list pages that show `post` on their first page: its primary tag's,
    its first author's."""
    paths = []
    primary = post.post_tags.filter(is_primary=True).select_related("tag").first()
    if primary:
        paths.append(f"/tags/{primary.tag.slug}/")
    first = post.authorships.order_by("position").select_related("author").first()
    if first:
        paths.append(f"/authors/{first.author.handle}/")
    return paths


def verify(args) -> None:
    """Re-read every post the log says was edited; compare with its last edit."""
    from posts.models import Post

    last: dict[int, dict] = {}
    made = failed = 0
    with open(args.log) as f:
        for raw in f:
            line = json.loads(raw)
            if "failed" in line:
                failed += 1
                continue
            made += 1
            last[line["pk"]] = line["state"]
    lost = []
    for pk, wanted in last.items():
        post = Post.objects.filter(pk=pk).first()
        now = state(post) if post else None
        if now != wanted:
            lost.append({"pk": pk, "wanted": wanted, "found": now})
    json.dump(
        {"edits_made": made, "edits_failed": failed, "posts_edited": len(last), "lost": lost},
        sys.stdout,
    )
    sys.stdout.write("\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run")
    p.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    p.add_argument("--slugs", required=True, help="comma-separated posts to edit in turn")
    p.add_argument("--posts", type=int, default=6)
    p.add_argument("--seconds", type=float, default=115)
    p.add_argument("--interval", type=float, default=3.0)
    p.add_argument("--retry-for", type=float, default=60.0)
    p.add_argument("--run-id", default=str(int(time.time())))
    v = sub.add_parser("verify")
    v.add_argument("--log", required=True)
    args = parser.parse_args()
    django.setup()
    run(args) if args.command == "run" else verify(args)


if __name__ == "__main__":
    main()
