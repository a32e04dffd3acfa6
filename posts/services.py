"""Every content write: posts, bylines, tags, series and author profiles.

The admin, the commands, the importer and restores call these functions and
nothing else writes content. Each is keyword-only and atomic, and refreshes the
derived data its write affects, once, for exactly the rows that changed:

- URL history (`SlugHistory`) when a slug or handle changes;
- stored search vectors (PostgreSQL) when a post's text or its tag names change;
- stored published-post counts of the tags and authors whose posts changed.

Page-cache invalidation is not done here: `posts/signals.py` turns every ORM
write (these and any other) into cache tags on commit. Bulk inserts send no
signals, so `posts_bulk_create` names its cache tags itself.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import AuthorProfile
from core.cache import tags as cache_tags
from core.cache.store import invalidate_on_commit
from posts import counts, images, search, slugs
from posts.models import Authorship, Post, PostTag, Series, SlugHistory, Tag

# Post fields whose change alters the stored search vector.
SEARCH_FIELDS = ("title", "summary", "body")
# A byline entry: an author, or (author, role).
BylineEntry = AuthorProfile | tuple[AuthorProfile, str]


class StaleEdit(Exception):
    """The post changed since the editor loaded it; `current` is the saved row."""

    def __init__(self, current: Post) -> None:
        self.current = current
        super().__init__(
            f"{current.title!r} was changed by someone else (version {current.version})."
        )


# --- Derived data, once per write -------------------------------------------------------


class _Pending:
    """Derived data owed by the writes of one block, refreshed together at its end."""

    def __init__(self) -> None:
        self.vectors: set[int] = set()  # posts whose search vector is stale
        self.recount_posts: set[int] = set()  # posts whose status changed
        self.tags: set[int] = set()  # tags and authors that gained or lost a post
        self.authors: set[int] = set()

    def flush(self) -> None:
        if self.vectors:
            search.update_search_vectors(sorted(self.vectors))
        counts.refresh(tag_ids=self.tags, author_ids=self.authors, post_ids=self.recount_posts)


_pending: ContextVar[_Pending | None] = ContextVar("posts_services_pending", default=None)


@contextmanager
def refresh_once() -> Iterator[None]:
    """Writes inside this block refresh derived data once, at its end, in its transaction
    (a post saved with its byline and tags gets one search-vector rebuild, not three)."""
    if _pending.get() is not None:
        yield
        return
    pending = _Pending()
    token = _pending.set(pending)
    try:
        with transaction.atomic():
            yield
            pending.flush()
    finally:
        _pending.reset(token)


def _owe(*, vectors=(), recount_posts=(), tags=(), authors=()) -> None:
    pending = _pending.get()
    target = pending or _Pending()
    target.vectors.update(vectors)
    target.recount_posts.update(recount_posts)
    target.tags.update(tags)
    target.authors.update(authors)
    if pending is None:
        target.flush()


# --- Helpers --------------------------------------------------------------------------


def slug_base(model: type[Model], text: str) -> str:
    """`text` as a slug for `model`, leaving room for a `-N` suffix."""
    max_length = model._meta.get_field("slug").max_length
    return (slugify(text) or "untitled")[: max_length - 8].strip("-") or "untitled"


def first_free_slug(base: str, taken: Container[str]) -> str:
    """`base`, or `base-2`, `base-3` … : the first not in `taken`."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def unique_slug(model: type[Model], text: str) -> str:
    """A slug from `text` that no other row of `model` uses."""
    base = slug_base(model, text)
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    return first_free_slug(base, taken)


_SLUG_KINDS = {
    Post: (SlugHistory.Kind.POST, "slug"),
    Tag: (SlugHistory.Kind.TAG, "slug"),
    Series: (SlugHistory.Kind.SERIES, "slug"),
    AuthorProfile: (SlugHistory.Kind.AUTHOR, "handle"),
}


def _save_slugged(obj: Model) -> None:
    """Save a new or changed tag, series or author profile and keep its URL history."""
    kind, field_name = _SLUG_KINDS[type(obj)]
    old = None
    if obj.pk is not None:
        old = type(obj).objects.filter(pk=obj.pk).values_list(field_name, flat=True).first()
    obj.full_clean()
    new = getattr(obj, field_name)
    if old != new:
        slugs.claim_slug(kind=kind, slug=new)
    obj.save()
    if old and old != new:
        slugs.remember_slug(kind=kind, old_slug=old, object_id=obj.pk)


# --- Posts ----------------------------------------------------------------------------


def post_save(*, post: Post, expected_version: int | None = None, validate: bool = True) -> Post:
    """Save a new or edited post with its current field values.

    `expected_version` is the `version` the editor loaded: when the row has moved
    on since, nothing is written and `StaleEdit` carries the saved row.
    """
    with transaction.atomic():
        before = None
        if post.pk is not None:
            before = (
                Post.objects.select_for_update()
                .filter(pk=post.pk)
                .values("slug", "status", "version", *SEARCH_FIELDS)
                .first()
            )
        if before and expected_version is not None and before["version"] != expected_version:
            raise StaleEdit(Post.objects.get(pk=post.pk))
        if validate:
            post.full_clean(exclude=["version"])
        if before is None or post.slug != before["slug"]:
            slugs.claim_slug(kind="post", slug=post.slug)
        post.version = (before["version"] if before else 0) + 1
        post.save()
        images.refresh_post_cover(post=post)
        if before and before["slug"] != post.slug:
            slugs.remember_slug(kind="post", old_slug=before["slug"], object_id=post.pk)
        text_changed = before is None or any(getattr(post, f) != before[f] for f in SEARCH_FIELDS)
        status_changed = before is not None and before["status"] != post.status
        _owe(
            vectors=[post.pk] if text_changed else (),
            recount_posts=[post.pk] if status_changed else (),
        )
    return post


def post_create(
    *,
    authors: Sequence[BylineEntry] = (),
    tags: Sequence[Tag] = (),
    primary_tag: Tag | None = None,
    **fields,
) -> Post:
    """A new post from its fields, with its byline and tags in order."""
    if not fields.get("slug"):
        fields["slug"] = unique_slug(Post, fields.get("title", ""))
    with refresh_once():
        post = post_save(post=Post(**fields))
        if authors:
            post_set_byline(post=post, authors=authors)
        if tags:
            post_set_tags(post=post, tags=tags, primary=primary_tag)
    return post


def post_update(*, post: Post, expected_version: int | None = None, **changes) -> Post:
    for name, value in changes.items():
        setattr(post, name, value)
    return post_save(post=post, expected_version=expected_version)


def post_publish(*, post: Post, at: datetime | None = None) -> Post:
    """Publish now, or at `at` (a future time schedules the post)."""
    post.status = Post.Status.PUBLISHED
    post.published_at = at or timezone.now()
    return post_save(post=post)


def post_schedule(*, post: Post, at: datetime) -> Post:
    if at <= timezone.now():
        raise ValueError("A scheduled time must be in the future.")
    return post_publish(post=post, at=at)


def post_unpublish(*, post: Post) -> Post:
    """Back to draft; the publication time is kept for a later re-publish."""
    post.status = Post.Status.DRAFT
    return post_save(post=post)


@transaction.atomic
def post_delete(*, post: Post) -> None:
    tag_ids = list(post.post_tags.values_list("tag_id", flat=True))
    author_ids = list(post.authorships.values_list("author_id", flat=True))
    pk = post.pk
    post.delete()
    SlugHistory.objects.filter(kind=SlugHistory.Kind.POST, object_id=pk).delete()
    counts.refresh_tag_counts(tag_ids)
    counts.refresh_author_counts(author_ids)


@refresh_once()
def post_duplicate(*, post: Post) -> Post:
    """A draft copy with the same text, byline and tags."""
    copy = Post(
        title=post.title,
        slug=unique_slug(Post, f"{post.slug}-copy"),
        summary=post.summary,
        body=post.body,
        body_format=post.body_format,
        cover_image=post.cover_image,
        cover_alt=post.cover_alt,
        series=post.series,
        status=Post.Status.DRAFT,
    )
    post_save(post=copy)
    post_set_byline(
        post=copy, authors=[(a.author, a.role) for a in post.authorships.select_related("author")]
    )
    rows = list(post.post_tags.select_related("tag"))
    post_set_tags(
        post=copy,
        tags=[r.tag for r in rows],
        primary=next((r.tag for r in rows if r.is_primary), None),
    )
    return copy


def _byline_rows(authors: Sequence[BylineEntry]) -> list[tuple[AuthorProfile, str]]:
    rows, seen = [], set()
    for entry in authors:
        author, role = entry if isinstance(entry, tuple) else (entry, Authorship.Role.AUTHOR)
        if author.pk not in seen:
            seen.add(author.pk)
            rows.append((author, role or Authorship.Role.AUTHOR))
    return rows


@transaction.atomic
def post_set_byline(*, post: Post, authors: Sequence[BylineEntry]) -> None:
    """Make the byline exactly `authors`, in that order (positions 0, 1, …)."""
    wanted = _byline_rows(authors)
    existing = {a.author_id: a for a in post.authorships.all()}
    keep = {author.pk for author, _ in wanted}
    gone = [row.pk for author_id, row in existing.items() if author_id not in keep]
    if gone:
        Authorship.objects.filter(pk__in=gone).delete()
    changed, new = [], []
    positions = _positions([existing.get(author.pk) for author, _ in wanted])
    for position, (author, role) in zip(positions, wanted, strict=True):
        row = existing.get(author.pk)
        if row is None:
            new.append(Authorship(post=post, author=author, position=position, role=role))
        elif (row.position, row.role) != (position, role):
            row.position, row.role = position, role
            changed.append(row)
    _write_rows(new, changed, ["position", "role"])
    if post.status == Post.Status.PUBLISHED:
        _owe(authors=set(existing) ^ keep)


@transaction.atomic
def post_set_tags(*, post: Post, tags: Sequence[Tag], primary: Tag | None = None) -> None:
    """Make the post's tags exactly `tags`, in order; `primary` (default: the first) is marked."""
    wanted = list({t.pk: t for t in tags}.values())
    primary = primary or (wanted[0] if wanted else None)
    primary_id = primary.pk if primary else None
    existing = {r.tag_id: r for r in post.post_tags.all()}
    keep = {t.pk for t in wanted}
    gone = [row.pk for tag_id, row in existing.items() if tag_id not in keep]
    # Clear a primary flag that moves first: the database allows one per post.
    demoted = [r for r in existing.values() if r.is_primary and r.tag_id != primary_id]
    if gone:
        PostTag.objects.filter(pk__in=gone).delete()
    if demoted:
        PostTag.objects.filter(pk__in=[r.pk for r in demoted if r.tag_id in keep]).update(
            is_primary=False
        )
        for r in demoted:
            r.is_primary = False
    changed, new = [], []
    positions = _positions([existing.get(tag.pk) for tag in wanted])
    for position, tag in zip(positions, wanted, strict=True):
        row = existing.get(tag.pk)
        is_primary = tag.pk == primary_id
        if row is None:
            new.append(PostTag(post=post, tag=tag, position=position, is_primary=is_primary))
        elif (row.position, row.is_primary) != (position, is_primary):
            row.position, row.is_primary = position, is_primary
            changed.append(row)
    _write_rows(new, changed, ["position", "is_primary"])
    if set(existing) != keep:
        published = post.status == Post.Status.PUBLISHED
        _owe(vectors=[post.pk], tags=(set(existing) ^ keep) if published else ())


def _positions(rows: list) -> list[int]:
    """Ascending positions for rows in their wanted order, keeping each existing row's
    own number where the order allows, so a move rewrites only the rows that moved."""
    out, last = [], -1
    for row in rows:
        last = row.position if row is not None and row.position > last else last + 1
        out.append(last)
    return out


def _write_rows(new: list, changed: list, fields: list[str]) -> None:
    # save() per row, not bulk: the signals turn each into page-cache tags.
    for row in changed:
        row.save(update_fields=fields)
    for row in new:
        row.save()


# --- Bulk ------------------------------------------------------------------------------


@dataclass
class NewPost:
    """One post for `posts_bulk_create`: an unsaved `Post`, its byline and tags in order."""

    post: Post
    authors: Sequence[BylineEntry] = ()
    tags: Sequence[Tag] = ()
    primary_tag: Tag | None = None
    rendered: bool = False  # body_html/reading_minutes already filled


@transaction.atomic
def posts_bulk_create(*, items: Sequence[NewPost], batch_size: int = 2000) -> list[Post]:
    """Insert many posts with their through rows; derived data refreshed once for all."""
    posts = []
    for item in items:
        post = item.post
        post.source_guid = post.source_guid or None
        if post.status == Post.Status.PUBLISHED and not post.published_at:
            post.published_at = timezone.now()
        if not item.rendered:
            post.render()
        posts.append(post)
    Post.objects.bulk_create(posts, batch_size=batch_size)
    SlugHistory.objects.filter(
        kind=SlugHistory.Kind.POST, old_slug__in=[p.slug for p in posts]
    ).delete()
    authorships, post_tags = [], []
    for item in items:
        for position, (author, role) in enumerate(_byline_rows(item.authors)):
            authorships.append(
                Authorship(post=item.post, author=author, position=position, role=role)
            )
        wanted = list({t.pk: t for t in item.tags}.values())
        primary = item.primary_tag or (wanted[0] if wanted else None)
        for position, tag in enumerate(wanted):
            post_tags.append(
                PostTag(post=item.post, tag=tag, position=position, is_primary=tag == primary)
            )
    Authorship.objects.bulk_create(authorships, batch_size=5000)
    PostTag.objects.bulk_create(post_tags, batch_size=5000)
    ids = [p.pk for p in posts]
    # Most of the site new (seeding, a first import): rebuild every vector in the
    # one pass that parses each distinct body once.
    mostly_new = len(ids) > 1000 and len(ids) * 2 > Post.objects.count()
    if mostly_new:
        # Tables that were (nearly) empty have no statistics yet: without them
        # PostgreSQL plans the rebuild as a nested loop (900 s for 10,000 posts).
        search.analyze(["posts_post", "posts_posttag", "posts_tag"])
    search.update_search_vectors(None if mostly_new else ids)
    tag_ids = {r.tag_id for r in post_tags}
    author_ids = {r.author_id for r in authorships}
    counts.refresh_tag_counts(tag_ids)
    counts.refresh_author_counts(author_ids)
    # Bulk inserts send no signals: name what the new rows show.
    invalidate_on_commit(
        {cache_tags.POSTS, cache_tags.TAGS, cache_tags.AUTHORS}
        | {cache_tags.tag(pk) for pk in tag_ids}
        | {cache_tags.author(pk) for pk in author_ids}
    )
    return posts


@transaction.atomic
def slugged_bulk_create(*, objects: Sequence[Model], batch_size: int = 1000) -> None:
    """Insert many new tags, series or author profiles at once (seeding, imports)."""
    if not objects:
        return
    model = type(objects[0])
    kind, field_name = _SLUG_KINDS[model]
    for obj in objects:
        if isinstance(obj, AuthorProfile):
            obj.render()
    model.objects.bulk_create(objects, batch_size=batch_size)
    SlugHistory.objects.filter(
        kind=kind, old_slug__in=[getattr(o, field_name) for o in objects]
    ).delete()
    invalidate_on_commit({cache_tags.TAGS, cache_tags.AUTHORS})


# --- Tags -------------------------------------------------------------------------------


def normalise_tag_name(name: str) -> str:
    return " ".join(name.split())


def tag_get_or_create(*, name: str) -> Tag:
    """The tag called `name`, whatever its case and spacing; created when missing."""
    name = normalise_tag_name(name)
    found = Tag.objects.filter(name__iexact=name).first()
    if found is None:
        found = Tag.objects.filter(slug=slugify(name)).first() if slugify(name) else None
    return found or tag_save(tag=Tag(name=name, slug=unique_slug(Tag, name)))


@transaction.atomic
def tag_save(*, tag: Tag) -> Tag:
    """Save a new or edited tag. A rename re-indexes its posts in one statement."""
    old_name = None
    if tag.pk is not None:
        old_name = Tag.objects.filter(pk=tag.pk).values_list("name", flat=True).first()
    _save_slugged(tag)
    if old_name is not None and old_name != tag.name:
        search.update_search_vectors_for_tags([tag.pk])
    return tag


def tag_update(*, tag: Tag, **changes) -> Tag:
    for name, value in changes.items():
        setattr(tag, name, value)
    return tag_save(tag=tag)


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    post_ids = list(tag.tag_posts.values_list("post_id", flat=True))
    pk = tag.pk
    tag.delete()
    SlugHistory.objects.filter(kind=SlugHistory.Kind.TAG, object_id=pk).delete()
    search.update_search_vectors(post_ids)


@transaction.atomic
def tag_merge(*, source: Tag, into: Tag) -> Tag:
    """Move every post of `source` to `into` and delete `source`; its URLs 301 to `into`."""
    if source.pk == into.pk:
        raise ValueError("A tag cannot be merged into itself.")
    rows = list(source.tag_posts.all())
    already = set(
        into.tag_posts.filter(post_id__in=[r.post_id for r in rows]).values_list(
            "post_id", flat=True
        )
    )
    moving = [r for r in rows if r.post_id not in already]
    promote = [r.post_id for r in rows if r.is_primary and r.post_id in already]
    post_ids = [r.post_id for r in rows]
    old_slug = source.slug
    # Rows move by update so bylines, positions and primary flags stay as they were.
    PostTag.objects.filter(pk__in=[r.pk for r in moving]).update(tag=into)
    source.delete()  # and its rows on posts that already had `into`
    # Only now: a post may have one primary tag, and `source` was it.
    PostTag.objects.filter(tag=into, post_id__in=promote).update(is_primary=True)
    SlugHistory.objects.filter(kind=SlugHistory.Kind.TAG, object_id=source.pk).update(
        object_id=into.pk
    )
    slugs.remember_slug(kind=SlugHistory.Kind.TAG, old_slug=old_slug, object_id=into.pk)
    search.update_search_vectors(post_ids)
    counts.refresh_tag_counts([into.pk])
    # Moved rows were written by update(): no signal saw them.
    invalidate_on_commit(
        {cache_tags.tag(into.pk), cache_tags.TAGS} | {cache_tags.post(pk) for pk in post_ids}
    )
    return into


# --- Series and authors ----------------------------------------------------------------


def series_save(*, series: Series) -> Series:
    with transaction.atomic():
        _save_slugged(series)
    return series


@transaction.atomic
def series_delete(*, series: Series) -> None:
    pk = series.pk
    series.delete()  # its posts keep existing, outside any series (SET_NULL)
    SlugHistory.objects.filter(kind=SlugHistory.Kind.SERIES, object_id=pk).delete()


def author_save(*, author: AuthorProfile) -> AuthorProfile:
    with transaction.atomic():
        _save_slugged(author)
        images.refresh_author_avatar(author=author)
    return author


def author_create(**fields) -> AuthorProfile:
    return author_save(author=AuthorProfile(**fields))


@transaction.atomic
def author_delete(*, author: AuthorProfile) -> None:
    """Delete an author profile; posts stay, without this author on their bylines."""
    pk = author.pk
    author.delete()
    SlugHistory.objects.filter(kind=SlugHistory.Kind.AUTHOR, object_id=pk).delete()
