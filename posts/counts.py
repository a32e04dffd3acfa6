"""Stored post counts for tags and authors, so index pages never count rows.

`published_post_count` includes scheduled posts: a post going live needs no
write. Readers get `public_post_count` = stored count minus that object's
scheduled posts, which are few and found through the listing index.
"""

from collections import Counter
from collections.abc import Iterable

from django.db.models import Case, Count, F, IntegerField, QuerySet, When

from accounts.models import AuthorProfile
from posts.models import Authorship, Post, PostTag, Tag


def _recount(model, through, fk: str, ids: Iterable[int] | None) -> None:
    # One grouped count and a bulk update: a correlated subquery per row was
    # planned as a scan per tag straight after a bulk insert (minutes at 100k).
    rows = through.objects.filter(post__status=Post.Status.PUBLISHED)
    objects = model.objects.all()
    if ids is not None:
        ids = set(ids)
        if not ids:
            return
        rows, objects = rows.filter(**{f"{fk}_id__in": ids}), objects.filter(pk__in=ids)
    found = dict(rows.order_by().values_list(f"{fk}_id").annotate(n=Count("*")))
    changed = []
    for obj in objects.only("pk", "published_post_count"):
        if obj.published_post_count != found.get(obj.pk, 0):
            obj.published_post_count = found.get(obj.pk, 0)
            changed.append(obj)
    model.objects.bulk_update(changed, ["published_post_count"], batch_size=500)


def refresh_tag_counts(tag_ids: Iterable[int] | None = None) -> None:
    """Recount the given tags (None: all of them)."""
    _recount(Tag, PostTag, "tag", tag_ids)


def refresh_author_counts(author_ids: Iterable[int] | None = None) -> None:
    _recount(AuthorProfile, Authorship, "author", author_ids)


def refresh(
    *, tag_ids: Iterable[int] = (), author_ids: Iterable[int] = (), post_ids: Iterable[int] = ()
) -> None:
    """Recount the given tags and authors, plus every tag and author of `post_ids`
    (posts whose status changed)."""
    tag_ids, author_ids, post_ids = set(tag_ids), set(author_ids), list(post_ids)
    if post_ids:
        tag_ids.update(
            PostTag.objects.filter(post_id__in=post_ids).values_list("tag_id", flat=True)
        )
        author_ids.update(
            Authorship.objects.filter(post_id__in=post_ids).values_list("author_id", flat=True)
        )
    refresh_tag_counts(tag_ids)
    refresh_author_counts(author_ids)


def with_public_counts(queryset: QuerySet, through, fk: str) -> QuerySet:
    """Objects with at least one public post, annotated with `public_post_count`."""
    scheduled = Counter(
        through.objects.filter(post__in=Post.objects.scheduled().values("pk")).values_list(
            f"{fk}_id", flat=True
        )
    )
    public = F("published_post_count")
    if scheduled:
        public = public - Case(
            *(When(pk=pk, then=n) for pk, n in scheduled.items()),
            default=0,
            output_field=IntegerField(),
        )
    return queryset.annotate(public_post_count=public).filter(public_post_count__gt=0)
