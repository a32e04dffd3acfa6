"""Write a ParsedFeed through posts.services, in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db import transaction
from django.utils.text import slugify

from accounts.models import AuthorProfile
from core.rendering import plain_text, reading_minutes, render_body
from posts import services
from posts.importing.items import FeedItem, ImportFailed, ImportReport, ParsedFeed, Skipped
from posts.importing.text import SUMMARY_CHARS, TITLE_CHARS, drop_block_comments, shorten
from posts.models import PathRedirect, Post, SlugHistory, Tag

Progress = Callable[[int, int], None]
CHUNK = 1000  # posts per bulk insert (and per progress step)


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


@dataclass
class _Prepared:
    """One item, its byline handles, tag names and content hash; fields filled when written."""

    item: FeedItem
    author_handles: tuple[str, ...]
    tags: tuple[str, ...]
    hash: str
    fields: dict = field(default_factory=dict)
    body_html: str = ""  # rendered once, reused by the insert


def import_feed(
    *,
    feed: ParsedFeed,
    author_handle: str | None = None,
    as_draft: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Create new items, update changed ones, leave unchanged ones alone.

    Everything happens in one transaction: any failure leaves the database and
    the page cache (invalidated only on commit) as they were. A dry run does
    the same work and rolls it back.
    """
    report = ImportReport(skipped=list(feed.skipped))
    try:
        with transaction.atomic():
            _write(feed, report, author_handle, as_draft, progress or (lambda done, total: None))
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return report


def _write(feed, report, author_handle, as_draft, progress) -> None:
    only = None
    if author_handle:
        only = AuthorProfile.objects.filter(handle=author_handle).first()
        if only is None:
            raise ImportFailed(f"no author with the handle {author_handle!r}")
    prepared = _prepare(feed, report, only, as_draft)
    existing = _existing([p.item.source_guid for p in prepared])
    new, changed = [], []
    for p in prepared:
        found = existing.get(p.item.source_guid)
        if found is None:
            new.append(p)
        elif found[1] != p.hash:
            changed.append((found[0], p))
        else:
            report.unchanged += 1
    total, done = len(prepared), report.unchanged
    progress(done, total)
    # Only what gets written is rendered, and only its authors and tags are looked up.
    written = new + [p for _, p in changed]
    for p in written:
        _fill_fields(p, feed.kind, as_draft)
    authors = {only.handle: only} if only else _authors(feed, written, report)
    tags = _tags(written, report)
    slugs = _SlugAllocator() if new else None
    for start in range(0, len(new), CHUNK):
        chunk = new[start : start + CHUNK]
        _create(chunk, authors, tags, slugs)
        report.created += len(chunk)
        done += len(chunk)
        progress(done, total)
    posts = Post.objects.in_bulk([pk for pk, _ in changed])
    for pk, p in changed:
        _update(posts[pk], p, authors, tags)
        report.updated += 1
        done += 1
        if done % 100 == 0 or done == total:
            progress(done, total)
    report.notes.extend(f"{p.fields['title']}: {p.item.note}" for p in written if p.item.note)
    anonymous = sum(1 for p in written if not p.author_handles)
    if anonymous:
        report.notes.append(
            f"{anonymous} posts name no author in the feed and have no byline; "
            "re-run with --author HANDLE to give them one"
        )


def _prepare(feed, report, only, as_draft) -> list[_Prepared]:
    seen, out = set(), []
    for item in feed.items:
        if item.source_guid in seen:
            label = item.title or item.source_guid
            report.skipped.append(Skipped(label, "duplicate guid in this file"))
            continue
        seen.add(item.source_guid)
        handles = (only.handle,) if only else item.author_handles
        tags = _tag_names(item.tags)
        digest = _hash(item, kind=feed.kind, handles=handles, tags=tags, as_draft=as_draft)
        out.append(_Prepared(item, handles, tags, digest))
    return out


def _fill_fields(p: _Prepared, kind: str, as_draft: bool) -> None:
    item = p.item
    body = drop_block_comments(item.body_html)
    p.body_html = render_body(body, Post.BodyFormat.HTML)
    text = " ".join(plain_text(p.body_html).split())
    title = item.title or shorten(text, TITLE_CHARS) or "Untitled"
    p.fields = {
        "title": title[:200],
        "summary": shorten(item.summary, 300) if item.summary else shorten(text, SUMMARY_CHARS),
        "body": body,
        "body_format": Post.BodyFormat.HTML,
        "status": Post.Status.DRAFT if as_draft else item.status,
        "published_at": item.published_at,
        "canonical_url": item.link if kind != "wxr" else "",
        "source_guid": item.source_guid,
    }


def _tag_names(names) -> tuple[str, ...]:
    """Normalised, de-duplicated (case-insensitively) tag names, in feed order."""
    out: dict[str, str] = {}
    for name in names:
        name = services.normalise_tag_name(name)[:80]
        if name:
            out.setdefault(name.lower(), name)
    return tuple(out.values())


def _hash(item: FeedItem, **options) -> str:
    """sha256 of the item as read plus the options shaping it: equal means nothing to write."""

    def default(value):
        return value.isoformat() if isinstance(value, datetime) else str(value)

    payload = {**asdict(item), **options, "note": None}
    data = json.dumps(payload, sort_keys=True, default=default, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def _authors(feed, prepared, report) -> dict[str, AuthorProfile]:
    wanted = {h for p in prepared for h in p.author_handles}
    found = {a.handle: a for a in AuthorProfile.objects.filter(handle__in=wanted)}
    missing = []
    for handle in sorted(wanted - found.keys()):
        known = feed.authors.get(handle)
        name = known.display_name if known else handle
        missing.append(AuthorProfile(handle=handle, display_name=name[:120]))
    if missing:
        services.slugged_bulk_create(objects=missing)
        report.authors_created = len(missing)
        found.update((a.handle, a) for a in AuthorProfile.objects.filter(handle__in=wanted))
    return found


def _tags(prepared, report) -> dict[str, Tag]:
    names: dict[str, str] = {}
    for p in prepared:
        for name in p.tags:
            names.setdefault(name.lower(), name)  # the first spelling met names a new tag
    before = Tag.objects.count()
    tags = {key: services.tag_get_or_create(name=name) for key, name in sorted(names.items())}
    report.tags_created = Tag.objects.count() - before
    return tags


def _existing(guids: list[str]) -> dict[str, tuple[int, str]]:
    found = {}
    for start in range(0, len(guids), 5000):
        rows = Post.objects.filter(source_guid__in=guids[start : start + 5000]).values_list(
            "source_guid", "pk", "source_hash"
        )
        found.update((guid, (pk, digest)) for guid, pk, digest in rows)
    return found


class _SlugAllocator:
    """services.unique_slug for a whole batch: one query for the taken slugs, not one per post."""

    def __init__(self) -> None:
        self.taken = set(Post.objects.values_list("slug", flat=True))
        # An old slug still redirects to its post; a new post must not take it over.
        self.taken.update(
            SlugHistory.objects.filter(kind=SlugHistory.Kind.POST).values_list(
                "old_slug", flat=True
            )
        )

    def claim(self, wanted: str, title: str) -> str:
        base = services.slug_base(Post, wanted if slugify(wanted) else title)
        candidate = services.first_free_slug(base, self.taken)
        self.taken.add(candidate)
        return candidate


def _byline(p: _Prepared, authors: dict[str, AuthorProfile]) -> list:
    byline = [authors[h] for h in p.author_handles if h in authors]
    return [byline[0], *((a, "co-author") for a in byline[1:])] if byline else []


def _create(chunk: list[_Prepared], authors, tags, slugs: _SlugAllocator) -> None:
    items = []
    for p in chunk:
        post = Post(**p.fields, slug=slugs.claim(p.item.slug, p.fields["title"]))
        post.source_hash = p.hash
        post.body_html = p.body_html
        post.reading_minutes = reading_minutes(post.body_html)
        if p.item.updated_at:
            post.updated_at = p.item.updated_at
        items.append(
            services.NewPost(
                post=post,
                authors=_byline(p, authors),
                tags=[tags[n.lower()] for n in p.tags],
                rendered=True,
            )
        )
    services.posts_bulk_create(items=items)
    _save_redirects(
        [
            PathRedirect(old_path=p.item.old_path, post=new.post)
            for new, p in zip(items, chunk, strict=True)
            if p.item.old_path
        ]
    )


def _save_redirects(redirects: list[PathRedirect]) -> None:
    if redirects:
        PathRedirect.objects.bulk_create(
            redirects, update_conflicts=True, unique_fields=["old_path"], update_fields=["post"]
        )


def _update(post: Post, p: _Prepared, authors, tags) -> None:
    services.post_update(post=post, source_hash=p.hash, **p.fields)
    services.post_set_byline(post=post, authors=_byline(p, authors))
    services.post_set_tags(post=post, tags=[tags[n.lower()] for n in p.tags])
    if p.item.old_path:
        _save_redirects([PathRedirect(old_path=p.item.old_path, post=post)])
