"""Revisions of a post: simple-history's row for the post's fields plus a snapshot of
its byline and tags, compared field by field and restored through the services.

`record()` runs once per explicit save (the admin's save, its publishing actions
and a restore), after the through rows are written; autosaves never call it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from accounts.models import AuthorProfile
from posts import services
from posts.models import Post, PostRevision, Tag

COMPARED_FIELDS = ("title", "summary", "body", "status", "published_at")


def byline_snapshot(post: Post) -> list[dict]:
    return [
        {"author": a.author_id, "name": a.author.display_name, "role": a.role}
        for a in post.authorships.select_related("author").order_by("position", "pk")
    ]


def tags_snapshot(post: Post) -> list[dict]:
    return [
        {"tag": r.tag_id, "name": r.tag.name, "primary": r.is_primary}
        for r in post.post_tags.select_related("tag").order_by("position", "pk")
    ]


def record(*, post: Post) -> PostRevision | None:
    """Attach the current byline and tags to the post's newest history row."""
    latest = post.history.order_by("-history_date", "-history_id").first()
    if latest is None:
        return None
    revision, _ = PostRevision.objects.update_or_create(
        history=latest,
        defaults={
            "post": post,
            "byline": byline_snapshot(post),
            "tags": tags_snapshot(post),
            "created_at": latest.history_date,
        },
    )
    return revision


def revisions_for(post: Post):
    return PostRevision.objects.filter(post=post).select_related("history__history_user")


# --- Comparing ---------------------------------------------------------------------------


@dataclass
class FieldChange:
    label: str
    before: str
    after: str
    diff_html: SafeString | None = None  # the body's line diff

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _when(value) -> str:
    if not value:
        return "—"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")


def _status(status: str, published_at) -> str:
    if status != Post.Status.PUBLISHED:
        return "Draft"
    if published_at and published_at > timezone.now():
        return "Scheduled"
    return "Published"


def _byline_text(byline: list[dict]) -> str:
    return ", ".join(
        row["name"] + ("" if row.get("role") in (None, "author") else f" ({row['role']})")
        for row in byline
    )


def _tags_text(tags: list[dict]) -> str:
    return ", ".join(row["name"] + (" (primary)" if row.get("primary") else "") for row in tags)


def body_diff_html(before: str, after: str) -> SafeString:
    """A line diff with <del>/<ins> markup (unchanged lines kept around changes, folded)."""
    lines = []
    diff = difflib.unified_diff(
        (before or "").splitlines(), (after or "").splitlines(), lineterm="", n=2
    )
    for line in list(diff)[2:]:  # skip the ---/+++ file header
        if line.startswith("@@"):
            lines.append('<span class="diff-hunk">…</span>')
        elif line.startswith("-"):
            lines.append(f"<del>{escape(line[1:]) or ' '}</del>")
        elif line.startswith("+"):
            lines.append(f"<ins>{escape(line[1:]) or ' '}</ins>")
        else:
            lines.append(f"<span>{escape(line[1:])}</span>")
    return mark_safe("\n".join(lines))  # noqa: S308 - every piece escaped above


@dataclass
class Snapshot:
    """What a comparison needs of a post at one moment."""

    title: str
    summary: str
    body: str
    status: str
    published_at: object
    byline: list[dict] | None
    tags: list[dict] | None

    @classmethod
    def of_revision(cls, revision: PostRevision) -> Snapshot:
        h = revision.history
        return cls(
            h.title, h.summary, h.body, h.status, h.published_at, revision.byline, revision.tags
        )

    @classmethod
    def of_history(cls, h, revision: PostRevision | None = None) -> Snapshot:
        return cls(
            h.title,
            h.summary,
            h.body,
            h.status,
            h.published_at,
            revision.byline if revision else None,
            revision.tags if revision else None,
        )

    @classmethod
    def of_post(cls, post: Post) -> Snapshot:
        return cls(
            post.title,
            post.summary,
            post.body,
            post.status,
            post.published_at,
            byline_snapshot(post),
            tags_snapshot(post),
        )


def compare(old: Snapshot, new: Snapshot) -> list[FieldChange]:
    """Field-by-field changes from `old` to `new` (unchanged fields included, marked so)."""
    rows = [
        FieldChange("Title", old.title, new.title),
        FieldChange("Summary", old.summary, new.summary),
        FieldChange("Body", old.body, new.body),
        FieldChange(
            "Status",
            _status(old.status, old.published_at),
            _status(new.status, new.published_at),
        ),
        FieldChange("Publication time", _when(old.published_at), _when(new.published_at)),
    ]
    if old.byline is not None and new.byline is not None:
        rows.append(FieldChange("Authors", _byline_text(old.byline), _byline_text(new.byline)))
    if old.tags is not None and new.tags is not None:
        rows.append(FieldChange("Tags", _tags_text(old.tags), _tags_text(new.tags)))
    body = rows[2]
    if body.changed:
        body.diff_html = body_diff_html(body.before, body.after)
    return rows


def stale_edit_changes(post: Post, loaded_version: int) -> tuple[object, list[FieldChange]]:
    """Who saved `post` after `loaded_version`, and what they changed since then."""
    history = {h.version: h for h in post.history.filter(version__gte=loaded_version)}
    latest = post.history.order_by("-history_date", "-history_id").first()
    who = latest.history_user if latest else None
    base = history.get(loaded_version)
    if base is None:
        return who, []
    base_revision = PostRevision.objects.filter(history=base).first()
    current = Snapshot.of_post(post)
    old = Snapshot.of_history(base, base_revision)
    if base_revision is None:
        current.byline = current.tags = None
    return who, [c for c in compare(old, current) if c.changed]


# --- Restoring ---------------------------------------------------------------------------


@transaction.atomic
def restore(*, post: Post, revision: PostRevision) -> Post:
    """Make `post` read as `revision` did; the result is a new revision of its own."""
    h = revision.history
    services.post_update(
        post=post,
        title=h.title,
        summary=h.summary,
        body=h.body,
        body_format=h.body_format,
        status=h.status,
        published_at=h.published_at,
        cover_alt=h.cover_alt,
        series_id=h.series_id,
        series_order=h.series_order,
    )
    authors = AuthorProfile.objects.in_bulk([row["author"] for row in revision.byline])
    services.post_set_byline(
        post=post,
        authors=[
            (authors[row["author"]], row.get("role") or "author")
            for row in revision.byline
            if row["author"] in authors
        ],
    )
    tags = Tag.objects.in_bulk([row["tag"] for row in revision.tags])
    kept = [row for row in revision.tags if row["tag"] in tags]
    primary = next((tags[row["tag"]] for row in kept if row.get("primary")), None)
    services.post_set_tags(post=post, tags=[tags[row["tag"]] for row in kept], primary=primary)
    record(post=post)
    return post
