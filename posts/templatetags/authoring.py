"""The admin dashboard's lists (templates/admin/index.html)."""

from __future__ import annotations

from django import template
from django.db.models import Prefetch

from posts.models import Authorship, Post
from posts.permissions import can_edit_post

register = template.Library()

DASHBOARD_ROWS = 8


@register.simple_tag(takes_context=True)
def author_dashboard(context) -> dict:
    """My drafts, my scheduled posts and the site's recently published ones."""
    user = context["request"].user
    if not can_edit_post(user):
        return {}
    mine = Post.objects.filter(authorships__author__user=user).only(
        "title", "slug", "status", "published_at", "updated_at"
    )
    recent = Post.objects.public().prefetch_related(
        Prefetch("authorships", queryset=Authorship.objects.select_related("author"))
    )
    return {
        "drafts": list(
            mine.exclude(status=Post.Status.PUBLISHED).order_by("-updated_at")[:DASHBOARD_ROWS]
        ),
        "scheduled": list(mine.scheduled().order_by("published_at")[:DASHBOARD_ROWS]),
        "published": list(recent.order_by("-published_at")[:DASHBOARD_ROWS]),
    }
