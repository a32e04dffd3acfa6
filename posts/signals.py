"""ORM writes to page-cache tags, invalidated on commit. Nothing else.

Derived data (URL history, search vectors, counts) is refreshed by
posts/services.py. These receivers cover every write, including those made
outside the services (the shell, a data migration, a raw admin inline), so no
write ever leaves a stale page. The through models are covered too:
`post.tags.add()` and inlines write them directly.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import AuthorProfile, User
from core.cache import tags as cache_tags
from core.cache.store import invalidate_on_commit
from posts.models import Authorship, Post, PostTag, Series, Tag


@receiver(post_save, sender=Post, dispatch_uid="post-saved")
def post_saved(sender, instance: Post, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    tags = {cache_tags.post(instance.pk)}
    before = getattr(instance, "_loaded", None)
    now = {f: getattr(instance, f) for f in Post.LISTING_FIELDS}
    if created or before != now:
        # Membership or order of the public listings changed (counts on the
        # tag and author indexes too: they carry the `posts` tag).
        tags.add(cache_tags.POSTS)
        for series_id in {now["series_id"], (before or {}).get("series_id")} - {None}:
            tags.add(cache_tags.series(series_id))
    elif instance.series_id:
        tags.add(cache_tags.series(instance.series_id))
    instance._loaded = now
    invalidate_on_commit(tags)


@receiver(post_delete, sender=Post, dispatch_uid="post-deleted")
def post_deleted(sender, instance: Post, **kwargs) -> None:
    tags = {cache_tags.post(instance.pk), cache_tags.POSTS}
    if instance.series_id:
        tags.add(cache_tags.series(instance.series_id))
    invalidate_on_commit(tags)


@receiver(post_save, sender=Authorship, dispatch_uid="authorship-saved")
@receiver(post_delete, sender=Authorship, dispatch_uid="authorship-deleted")
def authorship_changed(sender, instance: Authorship, raw=False, **kwargs) -> None:
    if raw:
        return
    invalidate_on_commit(
        {
            cache_tags.post(instance.post_id),
            cache_tags.author(instance.author_id),
            cache_tags.AUTHORS,
        }
    )


@receiver(post_save, sender=PostTag, dispatch_uid="posttag-saved")
@receiver(post_delete, sender=PostTag, dispatch_uid="posttag-deleted")
def post_tag_changed(sender, instance: PostTag, raw=False, **kwargs) -> None:
    if raw:
        return
    invalidate_on_commit(
        {cache_tags.post(instance.post_id), cache_tags.tag(instance.tag_id), cache_tags.TAGS}
    )


@receiver(m2m_changed, sender=Post.tags.through, dispatch_uid="post-tags-m2m")
@receiver(m2m_changed, sender=Post.authors.through, dispatch_uid="post-authors-m2m")
def through_bulk_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """`.add()`, `.set()`, `.clear()` on either side write through rows without post_save
    (`remove()` and `clear()` also send post_delete per row; invalidating twice is harmless)."""
    if not action.startswith("post_"):
        return
    is_tags = sender is PostTag
    kind, index = (
        (cache_tags.tag, cache_tags.TAGS) if is_tags else (cache_tags.author, cache_tags.AUTHORS)
    )
    if reverse:  # instance is the tag or author; pk_set holds posts (None for clear)
        tags = {kind(instance.pk), index} | {cache_tags.post(pk) for pk in pk_set or ()}
    else:
        tags = {cache_tags.post(instance.pk), index} | {kind(pk) for pk in pk_set or ()}
    if action == "post_clear":
        # Which rows went is no longer known: drop the listings too.
        tags.add(cache_tags.POSTS)
    invalidate_on_commit(tags)


@receiver(post_save, sender=Tag, dispatch_uid="tag-saved")
@receiver(post_delete, sender=Tag, dispatch_uid="tag-deleted")
def tag_changed(sender, instance: Tag, raw=False, **kwargs) -> None:
    if not raw:
        invalidate_on_commit({cache_tags.tag(instance.pk), cache_tags.TAGS})


@receiver(post_save, sender=AuthorProfile, dispatch_uid="author-saved")
@receiver(post_delete, sender=AuthorProfile, dispatch_uid="author-deleted")
def author_changed(sender, instance: AuthorProfile, raw=False, **kwargs) -> None:
    if not raw:
        invalidate_on_commit({cache_tags.author(instance.pk), cache_tags.AUTHORS})


@receiver(post_save, sender=User, dispatch_uid="user-saved")
def user_changed(sender, instance: User, raw=False, **kwargs) -> None:
    if raw:
        return
    profile_id = AuthorProfile.objects.filter(user=instance).values_list("pk", flat=True).first()
    if profile_id:
        invalidate_on_commit({cache_tags.author(profile_id), cache_tags.AUTHORS})


@receiver(post_save, sender=Series, dispatch_uid="series-saved")
@receiver(post_delete, sender=Series, dispatch_uid="series-deleted")
def series_changed(sender, instance: Series, raw=False, **kwargs) -> None:
    if not raw:
        invalidate_on_commit({cache_tags.series(instance.pk)})
