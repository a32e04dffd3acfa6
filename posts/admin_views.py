"""Endpoints under /admin/posts/post/ that the change form's script and buttons call:
live preview, presence, revisions, duplicate and shared preview links.

Each is wrapped by `PostAdmin.admin_view` (login, staff, CSRF) and checks
posts.permissions for the post it touches.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.links import site_url
from core.rendering import plain_text, reading_minutes, render_body
from posts import checks, revisions, services, sharing
from posts.models import Post, PostRevision
from posts.permissions import can_edit_post


def change_url(post: Post) -> str:
    return reverse("admin:posts_post_change", args=[post.pk])


def editable_post(request: HttpRequest, object_id) -> Post:
    post = get_object_or_404(Post, pk=object_id)
    if not can_edit_post(request.user, post):
        raise Http404("No such post.")  # as if it did not exist, like the list
    return post


# --- Live preview and presence ------------------------------------------------------


@require_POST
def preview(request: HttpRequest) -> JsonResponse:
    """The body as the site will publish it, its length and the pre-publish checks."""
    if not can_edit_post(request.user):
        raise PermissionDenied
    body_format = request.POST.get("body_format") or Post.BodyFormat.MARKDOWN
    if body_format not in Post.BodyFormat.values:
        return JsonResponse({"error": f"Unknown body format {body_format!r}."}, status=400)
    html = render_body(request.POST.get("body", ""), body_format)
    problems = checks.problems(
        body_html=html,
        summary=request.POST.get("summary", ""),
        has_cover=request.POST.get("has_cover") == "1",
        cover_alt=request.POST.get("cover_alt", ""),
    )
    return JsonResponse(
        {
            "html": html,
            "words": len(plain_text(html).split()),
            "minutes": reading_minutes(html),
            "problems": [p.as_dict() for p in problems],
        }
    )


def _presence_key(post_id: int) -> str:
    return f"post-presence:{post_id}"


def others_editing(post: Post, user, *, touch: bool) -> list[str]:
    """Names of the other people with `post` open; `touch` records `user` as one of them."""
    ttl = settings.EDIT_PRESENCE_TTL
    now = time.time()
    seen = cache.get(_presence_key(post.pk)) or {}
    seen = {uid: entry for uid, entry in seen.items() if now - entry[1] < ttl}
    if touch:
        profile = getattr(user, "author_profile", None)
        name = getattr(profile, "display_name", "") or user.get_full_name() or user.get_username()
        seen[str(user.pk)] = (name, now)
        cache.set(_presence_key(post.pk), seen, ttl)
    return sorted(name for uid, (name, _) in seen.items() if uid != str(user.pk))


@require_POST
def presence(request: HttpRequest, object_id) -> JsonResponse:
    post = editable_post(request, object_id)
    return JsonResponse({"others": others_editing(post, request.user, touch=True)})


# --- Duplicate and share ----------------------------------------------------------------


@require_POST
def duplicate(request: HttpRequest, object_id) -> HttpResponse:
    post = editable_post(request, object_id)
    copy = services.post_duplicate(post=post)
    revisions.record(post=copy)
    messages.success(request, f"Duplicated as a draft: “{copy.title}” ({copy.slug}).")
    return redirect(change_url(copy))


@require_POST
def share(request: HttpRequest, object_id) -> HttpResponse:
    post = editable_post(request, object_id)
    url = site_url(sharing.share(post=post, user=request.user))
    days = round(sharing.max_age() / 86400)
    messages.success(
        request,
        f"Preview link (works without login for {days} days, until revoked): {url}",
    )
    return redirect(change_url(post))


@require_POST
def revoke(request: HttpRequest, object_id) -> HttpResponse:
    post = editable_post(request, object_id)
    if sharing.revoke(post=post):
        messages.success(request, "Every shared preview link of this post stopped working.")
    else:
        messages.info(request, "This post had no shared preview links.")
    return redirect(change_url(post))


# --- Revisions ------------------------------------------------------------------------


def revision_list(request: HttpRequest, object_id, *, context: dict) -> TemplateResponse:
    """Every revision, two picked for comparison (?a=older&b=newer; default: the last two)."""
    post = editable_post(request, object_id)
    items = list(revisions.revisions_for(post))
    by_id = {r.pk: r for r in items}

    def picked(name: str, default):
        try:
            return by_id.get(int(request.GET.get(name, "")), default)
        except ValueError:
            return default

    newer = picked("b", items[0] if items else None)
    older = picked("a", items[1] if len(items) > 1 else newer)
    if older and newer and older.created_at > newer.created_at:
        older, newer = newer, older
    changes = []
    if older and newer:
        changes = revisions.compare(
            revisions.Snapshot.of_revision(older), revisions.Snapshot.of_revision(newer)
        )
    context.update(
        title=f"Revisions of “{post.title}”",
        original=post,
        post=post,
        revisions=items,
        older=older,
        newer=newer,
        changes=changes,
    )
    return TemplateResponse(request, "admin/posts/post/revisions.html", context)


@require_POST
def revision_restore(request: HttpRequest, object_id, revision_id) -> HttpResponse:
    post = editable_post(request, object_id)
    revision = get_object_or_404(PostRevision, pk=revision_id, post=post)
    revisions.restore(post=post, revision=revision)
    when = revision.created_at.strftime("%Y-%m-%d %H:%M")
    messages.success(request, f"Restored the revision of {when}; that is a new revision now.")
    return redirect(change_url(post))
