"""Side effects of content writes: URL history, search vectors, page-cache invalidation.

Cache invalidation runs on commit, so a reader never re-caches the old rows of a
transaction that is still open. The through models are covered too: the admin's
inlines and `post.tags.add()` write them directly.
"""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import AuthorProfile, User
from core.cache import tags as cache_tags
from core.cache.store import invalidate
from posts import counts, search, slugs
from posts.models import Authorship, Post, PostTag, Series, SlugHistory, Tag


def invalidate_on_commit(*tags: str) -> None:
    transaction.on_commit(lambda: invalidate(set(tags)))


# --- URL history --------------------------------------------------------------
_SLUGGED = {Post: ("post", "slug"), Tag: ("tag", "slug"), Series: ("series", "slug"),
            AuthorProfile: ("author", "handle")}  # fmt: skip


def _slugged_pre_save(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    kind, field = _SLUGGED[sender]
    slugs.remember_slug_change(kind=kind, obj=instance, field=field)
    slugs.claim_slug(kind=kind, slug=getattr(instance, field))


for _model in _SLUGGED:
    pre_save.connect(_slugged_pre_save, sender=_model, dispatch_uid=f"slug-{_model.__name__}")


# --- Posts --------------------------------------------------------------------
@receiver(post_save, sender=Post, dispatch_uid="post-saved")
def post_saved(sender, instance: Post, created: bool, raw=False, **kwargs) -> None:
    if raw:
        return
    search.update_search_vectors([instance.pk])
    tags = {cache_tags.post(instance.pk)}
    before = getattr(instance, "_loaded", None)
    now = {f: getattr(instance, f) for f in Post.LISTING_FIELDS}
    if created or before != now:
        # Membership or order of the public listings changed.
        tags.add(cache_tags.POSTS)
        if not created and before and before["status"] != now["status"]:
            counts.refresh_counts_for_post(instance.pk)
        for series_id in {now["series_id"], (before or {}).get("series_id")} - {None}:
            tags.add(cache_tags.series(series_id))
    elif instance.series_id:
        tags.add(cache_tags.series(instance.series_id))
    instance._loaded = now
    invalidate_on_commit(*tags)


@receiver(post_delete, sender=Post, dispatch_uid="post-deleted")
def post_deleted(sender, instance: Post, **kwargs) -> None:
    SlugHistory.objects.filter(kind="post", object_id=instance.pk).delete()
    tags = {cache_tags.post(instance.pk), cache_tags.POSTS}
    if instance.series_id:
        tags.add(cache_tags.series(instance.series_id))
    invalidate_on_commit(*tags)


# --- Through rows -------------------------------------------------------------
@receiver(post_save, sender=Authorship, dispatch_uid="authorship-saved")
@receiver(post_delete, sender=Authorship, dispatch_uid="authorship-deleted")
def authorship_changed(sender, instance: Authorship, raw=False, **kwargs) -> None:
    if raw:
        return
    counts.refresh_author_counts([instance.author_id])
    invalidate_on_commit(
        cache_tags.post(instance.post_id), cache_tags.author(instance.author_id), cache_tags.AUTHORS
    )


@receiver(post_save, sender=PostTag, dispatch_uid="posttag-saved")
@receiver(post_delete, sender=PostTag, dispatch_uid="posttag-deleted")
def post_tag_changed(sender, instance: PostTag, raw=False, **kwargs) -> None:
    if raw:
        return
    search.update_search_vectors([instance.post_id])
    counts.refresh_tag_counts([instance.tag_id])
    invalidate_on_commit(
        cache_tags.post(instance.post_id), cache_tags.tag(instance.tag_id), cache_tags.TAGS
    )


@receiver(m2m_changed, sender=Post.tags.through, dispatch_uid="post-tags-m2m")
@receiver(m2m_changed, sender=Post.authors.through, dispatch_uid="post-authors-m2m")
def through_bulk_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """`post.tags.add(...)`, `.set()`, `.clear()` write through rows without post_save."""
    if not action.startswith("post_"):
        return
    if reverse:  # instance is the tag/author; pk_set holds posts (None for clear)
        post_ids = set(pk_set or ())
        other = {"tag" if isinstance(instance, Tag) else "author": {instance.pk}}
    else:
        post_ids = {instance.pk}
        other = {"tag" if model is Tag else "author": set(pk_set or ())}
    tags = {cache_tags.post(pk) for pk in post_ids}
    if "tag" in other:
        tags |= {cache_tags.tag(pk) for pk in other["tag"]} | {cache_tags.TAGS}
        search.update_search_vectors(list(post_ids))
        counts.refresh_tag_counts(other["tag"])
    else:
        tags |= {cache_tags.author(pk) for pk in other["author"]} | {cache_tags.AUTHORS}
        counts.refresh_author_counts(other["author"])
    if action == "post_clear":
        # Which rows went is no longer known: drop the listings and recount all.
        tags |= {cache_tags.POSTS}
        counts.refresh_tag_counts()
        counts.refresh_author_counts()
    invalidate_on_commit(*tags)


# --- Tags, authors, series, users --------------------------------------------
@receiver(post_save, sender=Tag, dispatch_uid="tag-saved")
@receiver(post_delete, sender=Tag, dispatch_uid="tag-deleted")
def tag_changed(sender, instance: Tag, raw=False, **kwargs) -> None:
    if raw:
        return
    if kwargs.get("created") is False:
        search.update_search_vectors(list(instance.tag_posts.values_list("post_id", flat=True)))
    invalidate_on_commit(cache_tags.tag(instance.pk), cache_tags.TAGS)


@receiver(post_save, sender=AuthorProfile, dispatch_uid="author-saved")
@receiver(post_delete, sender=AuthorProfile, dispatch_uid="author-deleted")
def author_changed(sender, instance: AuthorProfile, raw=False, **kwargs) -> None:
    if raw:
        return
    invalidate_on_commit(cache_tags.author(instance.pk), cache_tags.AUTHORS)


@receiver(post_save, sender=User, dispatch_uid="user-saved")
def user_changed(sender, instance: User, raw=False, **kwargs) -> None:
    if raw:
        return
    profile_id = AuthorProfile.objects.filter(user=instance).values_list("pk", flat=True).first()
    if profile_id:
        invalidate_on_commit(cache_tags.author(profile_id), cache_tags.AUTHORS)


@receiver(post_save, sender=Series, dispatch_uid="series-saved")
@receiver(post_delete, sender=Series, dispatch_uid="series-deleted")
def series_changed(sender, instance: Series, raw=False, **kwargs) -> None:
    if raw:
        return
    invalidate_on_commit(cache_tags.series(instance.pk))
