"""What `manage.py doctor` checks: each check is a function returning one Result.

FAIL means readers or writes are affected now (the command then exits 1, so
cron or a monitor can alert); WARN means something an operator should tidy.
Checks that read post bodies share one pass over them (`BodyScan`), streamed in
chunks and matched with regular expressions, so 100k posts stay fast.
"""

from __future__ import annotations

import email.utils
import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import NamedTuple

from django.conf import settings
from django.core import checks as django_checks
from django.core.cache import cache as django_cache
from django.core.files.storage import default_storage
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F, Q
from django.db.models.functions import Trim

from accounts.models import AuthorProfile
from core.cache import near, page
from core.cache.store import RedisPageStore, get_store
from posts.models import Authorship, Post, PostTag, Series, SlugHistory, Tag

OK, WARN, FAIL = "OK", "WARN", "FAIL"
EXAMPLES = 5  # how many offenders a line names
CHUNK = 2000


class Result(NamedTuple):
    level: str
    name: str
    message: str


def _examples(items: Iterable[str], total: int) -> str:
    shown = list(items)[:EXAMPLES]
    more = f" and {total - len(shown)} more" if total > len(shown) else ""
    return ", ".join(shown) + more


# --- Infrastructure ---------------------------------------------------------


def check_database() -> Result:
    connection = connections[DEFAULT_DB_ALIAS]
    where = connection.settings_dict.get("HOST") or connection.settings_dict["NAME"]
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the finding
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Result(FAIL, "database", f"unreachable ({where}): {type(exc).__name__} {reason}")
    if plan:
        names = [f"{m.app_label}.{m.name}" for m, _backwards in plan]
        return Result(
            FAIL,
            "database",
            f"{len(plan)} migrations not applied: {_examples(names, len(names))} "
            "(run manage.py migrate)",
        )
    return Result(OK, "database", f"{connection.vendor} reachable, migrations applied")


def check_cache() -> Result:
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.startswith("django_redis."):
        from django_redis import get_redis_connection

        client = get_redis_connection("default")
        where = "{host}:{port}".format(**client.connection_pool.connection_kwargs)
        try:
            client.ping()
        except Exception as exc:  # noqa: BLE001
            return Result(FAIL, "cache", f"Redis unreachable at {where}: {type(exc).__name__}")
        return Result(OK, "cache", f"Redis reachable at {where}")
    probe = f"doctor-{uuid.uuid4().hex}"
    try:
        django_cache.set(probe, "1", 30)
        readable = django_cache.get(probe) == "1"
        django_cache.delete(probe)
    except Exception as exc:  # noqa: BLE001
        return Result(FAIL, "cache", f"{backend} failed: {type(exc).__name__} {exc}")
    if not readable:
        where = settings.CACHES["default"].get("LOCATION", "")
        return Result(FAIL, "cache", f"{backend} at {where} is not writable")
    return Result(OK, "cache", f"{backend.rsplit('.', 1)[-1]} writable")


def check_page_cache_invalidation() -> Result:
    """Store a probe page under a probe tag, invalidate the tag, and see it gone.

    On the file cache (no Redis) invalidating any tag drops every cached page,
    as any edit there does."""
    store = get_store()
    path = f"doctor-probe/{uuid.uuid4().hex}"
    payload = page.pack(ttl=60, status=200, headers=[], body=b"doctor probe")
    try:
        stored = store.set(path, payload, tags={"doctor-probe"}, ttl=60, token=store.token())
        if not stored or store.get(path) != payload:
            return Result(FAIL, "page cache", "a probe page written to the store did not read back")
        drop = store.invalidate({"doctor-probe"})  # on Redis: which workers' copies answered
        if store.get(path) is not None:
            return Result(FAIL, "page cache", "invalidating a tag left its page in the store")
    except store.errors as exc:
        return Result(FAIL, "page cache", f"store unreachable: {type(exc).__name__}")
    works = "write, read and invalidation round trip works"
    if not isinstance(store, RedisPageStore):
        return Result(OK, "page cache", f"{works} (generation counter)")
    if drop.silent:
        return Result(
            WARN,
            "page cache",
            f"workers holding copies of pages did not acknowledge a drop within "
            f"{near.WAIT_MAX_S:g} s: {_examples(drop.silent, len(drop.silent))}",
        )
    return Result(
        OK,
        "page cache",
        f"{works} (Redis tag sets; "
        f"{drop.acknowledged} workers' copies dropped and acknowledged in "
        f"{drop.seconds * 1000:.0f} ms)",
    )


# --- Content ------------------------------------------------------------------


def _stored_at(stored: page.Stored) -> datetime | None:
    value = dict((k.lower(), v) for k, v in stored.headers).get("last-modified")
    return email.utils.parsedate_to_datetime(value) if value else None


def check_overdue_scheduled_posts() -> Result:
    """Posts due on the home page's first page that the cached home page does not show.

    The page cache's TTL is capped at the next scheduled post, so this only
    happens when a post's time was changed without invalidation (a raw SQL
    update, a restore) or clocks disagree. One query and one cache read."""
    from posts.views import HomeView

    store = get_store()
    try:
        payload = store.get(page.key({"PATH_INFO": "/"}))
    except store.errors as exc:
        return Result(WARN, "scheduled posts", f"page cache unreachable: {type(exc).__name__}")
    stored = page.unpack(payload) if payload is not None else None
    if stored is None:
        return Result(OK, "scheduled posts", "home page not cached: nothing stale to serve")
    due = (
        Post.objects.public()
        .latest_first()
        .values_list("slug", "published_at")[: HomeView.paginate_by]
    )
    body = stored.body.decode(errors="replace")
    missing = [(slug, at) for slug, at in due if f"/posts/{slug}/" not in body]
    if not missing:
        return Result(OK, "scheduled posts", "cached home page lists every due post")
    when = _stored_at(stored)
    names = [f"{slug} (due {at:%Y-%m-%d %H:%M})" for slug, at in missing]
    return Result(
        WARN,
        "scheduled posts",
        f"cached home page (stored {when:%Y-%m-%d %H:%M:%S} UTC) hides {len(missing)} "
        f"due posts: {_examples(names, len(names))} (run manage.py purge_cache)"
        if when
        else f"cached home page hides {len(missing)} due posts: {_examples(names, len(names))}",
    )


def check_listing_dates() -> Result:
    """Tag and byline rows whose `listed_at` is not their post's publication time
    (migration posts 0012's triggers keep it; a schema restored without them would
    not). Tag and author pages and related posts find posts by it: a wrong one
    hides a post there."""
    published = Q(post__status=Post.Status.PUBLISHED)
    stale = (published & (Q(listed_at__isnull=True) | ~Q(listed_at=F("post__published_at")))) | (
        ~published & Q(listed_at__isnull=False)
    )
    found = {}
    for name, model in (("tag", PostTag), ("byline", Authorship)):
        rows = model.objects.filter(stale)
        found[name] = (rows.count(), rows.values_list("post__slug", flat=True)[:EXAMPLES])
    total = sum(count for count, _slugs in found.values())
    if not total:
        return Result(
            OK, "listings", "every tag and byline row carries its post's publication time"
        )
    parts = [
        f"{count} {name} rows ({_examples(slugs, count)})"
        for name, (count, slugs) in found.items()
        if count
    ]
    return Result(
        FAIL,
        "listings",
        f"stale listing times hide posts from tag or author pages and related posts: "
        f"{'; '.join(parts)}. The database triggers of migration posts 0012 are missing: "
        "manage.py migrate posts 0011, then migrate",
    )


# Slugged kinds: the model and field SlugHistory entries of that kind point at.
SLUGGED = {
    SlugHistory.Kind.POST: (Post, "slug"),
    SlugHistory.Kind.TAG: (Tag, "slug"),
    SlugHistory.Kind.AUTHOR: (AuthorProfile, "handle"),
    SlugHistory.Kind.SERIES: (Series, "slug"),
}


def check_url_history() -> Result:
    """History entries that can never redirect: shadowed by a live slug, or orphaned."""
    shadowed: list[str] = []
    orphaned: list[str] = []
    for kind, (model, slug_field) in SLUGGED.items():
        entries = SlugHistory.objects.filter(kind=kind)
        shadowed += [
            f"{kind}:{slug}"
            for slug in entries.filter(old_slug__in=model.objects.values(slug_field)).values_list(
                "old_slug", flat=True
            )
        ]
        orphaned += [
            f"{kind}:{slug}"
            for slug in entries.exclude(object_id__in=model.objects.values("pk")).values_list(
                "old_slug", flat=True
            )
        ]
    if not shadowed and not orphaned:
        return Result(OK, "url history", "every old slug redirects to a live page")
    parts = []
    if shadowed:
        parts.append(
            f"{len(shadowed)} old slugs are also a current slug (the redirect never "
            f"happens; a rename back and forth makes a loop): {_examples(shadowed, len(shadowed))}"
        )
    if orphaned:
        parts.append(
            f"{len(orphaned)} point to deleted objects (404): {_examples(orphaned, len(orphaned))}"
        )
    return Result(WARN, "url history", "; ".join(parts))


@dataclass
class BodyScan:
    """What one pass over published post bodies found, shared by the checks below."""

    posts_scanned: int = 0
    # (kind, slug) -> slugs of the posts linking to it
    links: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    images_without_alt: list[str] = field(default_factory=list)  # post slugs
    media: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


# body_html is serialised by the sanitiser (core.rendering): lowercase names and
# double-quoted attributes. Patterns that start with a literal and ignore case
# nowhere let the regex engine skip ahead with a fast substring search.
_IMG = re.compile(r"<img\b[^>]*>")
_ALT = re.compile(r'\salt="([^"]*)"')


@cache
def _patterns(site_url: str, media_url: str) -> tuple[re.Pattern, re.Pattern]:
    """Internal links (root-relative or on SITE_URL) and media sources in rendered HTML."""
    site = f"(?:{re.escape(site_url)})?"
    link = re.compile(rf'href="{site}/(posts|tags|authors)/([^/?#"\s]+)')
    media = re.compile(rf'src="{site}{re.escape(media_url)}([^"?#]+)')
    return link, media


def scan_bodies() -> BodyScan:
    """Stream the published bodies that can hold a link or an image, in chunks."""
    link_re, media_re = _patterns(settings.SITE_URL, settings.MEDIA_URL)
    found = BodyScan()
    # Only rows that may match: the database filters (one regex, one pass), Python parses.
    may_match = Q(body_html__regex=rf'<img|href="({re.escape(settings.SITE_URL)})?/')
    rows = (
        Post.objects.filter(status=Post.Status.PUBLISHED)
        .filter(may_match)
        .order_by()
        .values_list("slug", "body_html")
        .iterator(chunk_size=CHUNK)
    )
    for slug, html in rows:
        found.posts_scanned += 1
        for kind, target in link_re.findall(html):
            found.links[(kind, target)].append(slug)
        for img in _IMG.findall(html):
            alt = _ALT.search(img)
            if alt is None or not alt.group(1).strip():
                found.images_without_alt.append(slug)
                break
        for name in media_re.findall(html):
            found.media[name].append(slug)
    return found


_LINK_KINDS = {
    "posts": (SlugHistory.Kind.POST, lambda slugs: Post.objects.filter(
        status=Post.Status.PUBLISHED, slug__in=slugs
    ).values_list("slug", flat=True)),
    "tags": (SlugHistory.Kind.TAG, lambda slugs: Tag.objects.filter(
        slug__in=slugs
    ).values_list("slug", flat=True)),
    "authors": (SlugHistory.Kind.AUTHOR, lambda slugs: AuthorProfile.objects.filter(
        handle__in=slugs
    ).values_list("handle", flat=True)),
}  # fmt: skip


def _chunks(items: list[str], size: int = 1000) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _resolving(kind: str, slugs: list[str]) -> set[str]:
    """Which of `slugs` answer: a live slug, or an old one whose object still exists."""
    history_kind, live = _LINK_KINDS[kind]
    model, _slug_field = SLUGGED[history_kind]
    ok: set[str] = set()
    for batch in _chunks(slugs):
        ok.update(live(batch))
        rest = [s for s in batch if s not in ok]
        if rest:
            ok.update(
                SlugHistory.objects.filter(kind=history_kind, old_slug__in=rest)
                .filter(object_id__in=model.objects.values("pk"))
                .values_list("old_slug", flat=True)
            )
    return ok


def check_internal_links(scan: BodyScan) -> Result:
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, slug in scan.links:
        by_kind[kind].append(slug)
    broken = []
    for kind, slugs in by_kind.items():
        ok = _resolving(kind, slugs)
        broken += [(kind, s) for s in slugs if s not in ok]
    if not broken:
        return Result(
            OK, "internal links", f"{len(scan.links)} link targets in post bodies all resolve"
        )
    in_posts = {p for key in broken for p in scan.links[key]}
    names = [f"/{kind}/{slug}/ (in {scan.links[(kind, slug)][0]})" for kind, slug in sorted(broken)]
    return Result(
        WARN,
        "internal links",
        f"{len(broken)} link targets 404, in {len(in_posts)} posts: {_examples(names, len(names))}",
    )


def check_alt_text(scan: BodyScan) -> Result:
    covers = Post.objects.exclude(cover_image="").annotate(alt=Trim("cover_alt")).filter(alt="")
    avatars = (
        AuthorProfile.objects.exclude(avatar="").annotate(alt=Trim("avatar_alt")).filter(alt="")
    )
    found = [
        ("covers without alt", covers.count(), covers.values_list("slug", flat=True)),
        ("avatars without alt", avatars.count(), avatars.values_list("handle", flat=True)),
        ("posts with an <img> lacking alt", len(scan.images_without_alt), scan.images_without_alt),
    ]
    parts = [
        f"{total} {what}: {_examples(names[:EXAMPLES], total)}"
        for what, total, names in found
        if total
    ]
    if not parts:
        return Result(OK, "alt text", "every cover, avatar and body image has alt text")
    return Result(WARN, "alt text", "; ".join(parts))


def check_media_files(scan: BodyScan) -> Result:
    """Every file a cover, an avatar or a body image names exists in default storage."""
    referenced: dict[str, str] = {}
    for slug, name in (
        Post.objects.exclude(cover_image="").values_list("slug", "cover_image").iterator(CHUNK)
    ):
        referenced.setdefault(name, f"cover of {slug}")
    for handle, name in AuthorProfile.objects.exclude(avatar="").values_list("handle", "avatar"):
        referenced.setdefault(name, f"avatar of {handle}")
    for name, slugs in scan.media.items():
        referenced.setdefault(name, f"image in {slugs[0]}")
    missing = [f"{name} ({used})" for name, used in referenced.items()
               if not default_storage.exists(name)]  # fmt: skip
    if not missing:
        return Result(OK, "media files", f"all {len(referenced)} referenced files exist")
    return Result(
        FAIL,
        "media files",
        f"{len(missing)} of {len(referenced)} referenced files missing: "
        f"{_examples(missing, len(missing))}",
    )


def check_deploy() -> Result:
    if settings.DEBUG:
        return Result(OK, "deploy checks", "not run: DEBUG is on")
    found = [
        m
        for m in django_checks.run_checks(include_deployment_checks=True)
        if not m.is_silenced() and m.level >= django_checks.WARNING
    ]
    if not found:
        return Result(OK, "deploy checks", "check --deploy finds nothing")
    level = FAIL if any(m.level >= django_checks.ERROR for m in found) else WARN
    ids = [m.id or m.msg[:40] for m in found]
    return Result(level, "deploy checks", f"{len(found)} findings: {_examples(ids, len(ids))}")


# --- The report ----------------------------------------------------------------


def run(*, on_result: Callable[[Result], None] = lambda r: None) -> list[Result]:
    """Every check in order. Content checks need the database, so they are
    skipped (and say so) when it is unreachable. A check that crashes is a FAIL."""

    def guarded(name: str, check: Callable[[], Result]) -> Result:
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - one broken check must not hide the rest
            result = Result(FAIL, name, f"check crashed: {type(exc).__name__}: {exc}")
        on_result(result)
        return result

    results = [guarded("database", check_database)]
    results.append(guarded("cache", check_cache))
    results.append(guarded("page cache", check_page_cache_invalidation))
    if results[0].level == FAIL:
        skipped = Result(FAIL, "content", "not checked: the database check failed")
        on_result(skipped)
        return [*results, skipped]
    results.append(guarded("scheduled posts", check_overdue_scheduled_posts))
    results.append(guarded("url history", check_url_history))
    results.append(guarded("listings", check_listing_dates))
    scan = BodyScan()
    try:
        scan = scan_bodies()
    except Exception as exc:  # noqa: BLE001
        failed = Result(FAIL, "post bodies", f"scan crashed: {type(exc).__name__}: {exc}")
        on_result(failed)
        results.append(failed)
    results.append(guarded("internal links", lambda: check_internal_links(scan)))
    results.append(guarded("alt text", lambda: check_alt_text(scan)))
    results.append(guarded("media files", lambda: check_media_files(scan)))
    results.append(guarded("deploy checks", check_deploy))
    return results
