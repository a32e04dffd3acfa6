"""Helpers for tests that drive the post change form like a browser would."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts.models import Post
from posts.tests.factories import AuthorFactory


def login(role: str = "Authors", **user_fields) -> tuple[Client, object]:
    """A client signed in as a new staff user in `role`, with an author profile."""
    user = UserFactory(is_staff=True, **user_fields)
    user.groups.add(Group.objects.get(name=role))
    AuthorFactory(user=user, display_name=user.get_full_name() or user.username)
    client = Client()
    client.force_login(user)
    return client, user


def change_url(post: Post) -> str:
    return f"/admin/posts/post/{post.pk}/change/"


def form_data(post: Post | None = None, **overrides) -> dict:
    """The change form's fields as the page would send them for `post` (None: a new post)."""
    published = post.published_at if post else None
    local = timezone.localtime(published) if published else None
    data = {
        "title": post.title if post else "",
        "slug": post.slug if post else "",
        "summary": post.summary if post else "",
        "body": post.body if post else "",
        "body_format": post.body_format if post else "markdown",
        "cover_alt": post.cover_alt if post else "",
        "status": post.status if post else "draft",
        "published_at_0": local.strftime("%Y-%m-%d") if local else "",
        "published_at_1": local.strftime("%H:%M:%S") if local else "",
        "canonical_url": post.canonical_url if post else "",
        "source_guid": (post.source_guid or "") if post else "",
        "series": post.series_id or "" if post else "",
        "series_order": (post.series_order or "") if post else "",
        "loaded_version": post.version if post else "",
        "schedule_at": "",
    }
    authorships = list(post.authorships.all()) if post else []
    data.update(
        {
            "authorships-TOTAL_FORMS": len(authorships),
            "authorships-INITIAL_FORMS": len(authorships),
        }
    )
    for n, a in enumerate(authorships):
        data.update(
            {
                f"authorships-{n}-id": a.pk,
                f"authorships-{n}-post": post.pk,
                f"authorships-{n}-author": a.author_id,
                f"authorships-{n}-role": a.role,
                f"authorships-{n}-position": a.position,
            }
        )
    rows = list(post.post_tags.all()) if post else []
    data.update({"post_tags-TOTAL_FORMS": len(rows), "post_tags-INITIAL_FORMS": len(rows)})
    for n, r in enumerate(rows):
        data.update(
            {
                f"post_tags-{n}-id": r.pk,
                f"post_tags-{n}-post": post.pk,
                f"post_tags-{n}-tag": r.tag_id,
                f"post_tags-{n}-position": r.position,
            }
        )
        if r.is_primary:
            data[f"post_tags-{n}-is_primary"] = "on"
    data.update(overrides)
    return data
