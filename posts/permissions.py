"""Who may edit and preview which post: the one rule the admin and the views share.

Authors may edit and preview only the posts whose byline has them; Editors
(`posts.edit_any_post`) and superusers every post. Anyone else, none.
"""

from __future__ import annotations

from django.db.models import QuerySet

from posts.models import Post


def is_editor(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("posts.edit_any_post"))
    )


def is_on_byline(user, post: Post) -> bool:
    if not user.is_authenticated or post.pk is None:
        return False
    # Reader pages prefetch the byline; use it rather than asking again.
    if "authorships" in getattr(post, "_prefetched_objects_cache", {}):
        return any(a.author.user_id == user.pk for a in post.authorships.all())
    return post.authorships.filter(author__user=user).exists()


def can_edit_post(user, post: Post | None = None) -> bool:
    """May `user` change `post` (None: posts in general, e.g. the admin's list)?"""
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return False
    if post is None or is_editor(user):
        return True
    return is_on_byline(user, post)


def can_preview_post(user, post: Post) -> bool:
    """May `user` read `post` before it is public? The same people who may edit it."""
    return can_edit_post(user, post)


def editable_posts(user, posts: QuerySet[Post]) -> QuerySet[Post]:
    """`posts` narrowed to those `user` may edit."""
    if is_editor(user):
        return posts
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return posts.none()
    return posts.filter(pk__in=Post.objects.filter(authorships__author__user=user).values("pk"))
