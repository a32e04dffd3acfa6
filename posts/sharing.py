"""Share a draft: signed preview links that work without a login.

A link signs (post id, the post's PreviewLink token) with a timestamp. It stops
working when it is older than PREVIEW_LINK_MAX_AGE, when its signature does not
match, or when the token is revoked (deleting the PreviewLink kills every link
made with it; a new one gets a new token).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.urls import reverse

from posts.models import Post, PreviewLink

SALT = "posts.sharing.preview"
DEFAULT_MAX_AGE = 7 * 24 * 3600


def max_age() -> int:
    return getattr(settings, "PREVIEW_LINK_MAX_AGE", DEFAULT_MAX_AGE)


def share(*, post: Post, user=None) -> str:
    """A fresh signed preview path for `post` (its token made on first use)."""
    link, _ = PreviewLink.objects.get_or_create(
        post=post, defaults={"token": secrets.token_urlsafe(24), "created_by": user}
    )
    signed = signing.TimestampSigner(salt=SALT).sign_object({"p": post.pk, "t": link.token})
    return reverse("preview_link", kwargs={"signed": signed})


def revoke(*, post: Post) -> bool:
    """Invalidate every shared link of `post`; False when there was none."""
    deleted, _ = PreviewLink.objects.filter(post=post).delete()
    return bool(deleted)


def resolve(signed: str) -> Post | None:
    """The post a signed link shows, or None when it is expired, tampered with or revoked."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(signed, max_age=max_age())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    return (
        Post.objects.defer("body", "search_vector")
        .with_card_data()
        .filter(pk=data.get("p"), preview_link__token=data.get("t"))
        .first()
    )
