"""Image writes: renditions of covers and avatars, and images uploaded from the editor.

`post_save` and `author_save` (posts/services.py) call the `refresh_*` functions after
the row (and so its file) is saved; they resize only when the file changed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import AuthorProfile
from core.cache import tags as cache_tags
from core.cache.store import invalidate_on_commit
from core.images import (
    ACCEPTED_FORMATS,
    AVATAR_WIDTHS,
    COVER_WIDTHS,
    ensure_renditions,
    inspect_image,
    make_renditions,
    renditions_list,
)
from posts.models import Post

BODY_IMAGES_DIR = "uploads"


def refresh_post_cover(*, post: Post) -> bool:
    """Make the cover's renditions if this file has none yet; True when it did."""
    data = ensure_renditions(post.cover_image, post.cover_renditions, widths=COVER_WIDTHS)
    if data == post.cover_renditions:
        return False
    post.cover_renditions = data
    # A derived column: no new version, history row or signal needed for it.
    Post.objects.filter(pk=post.pk).update(cover_renditions=data)
    return True


def refresh_author_avatar(*, author: AuthorProfile) -> bool:
    data = ensure_renditions(author.avatar, author.avatar_renditions, widths=AVATAR_WIDTHS)
    if data == author.avatar_renditions:
        return False
    author.avatar_renditions = data
    AuthorProfile.objects.filter(pk=author.pk).update(avatar_renditions=data)
    return True


@dataclass(frozen=True)
class BodyImage:
    """An image stored for a post body: the URL to embed and its Markdown."""

    url: str
    width: int
    height: int
    markdown: str
    renditions: dict[str, Any]


def _markdown_alt(alt: str) -> str:
    # Brackets and backslashes would end or bend the ![alt](url) syntax.
    text = " ".join(alt.split())
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def body_image_store(*, upload: UploadedFile, alt: str) -> BodyImage:
    """Check, store and resize an image for a post body (ValidationError when bad).

    The embedded URL is the largest rendition in the original format (at most
    1440 px wide), so a phone photo straight from the camera is not served whole.
    """
    info = inspect_image(upload)
    base = get_valid_filename(upload.name.rsplit("/", 1)[-1]) or "image"
    stem = base.rsplit(".", 1)[0][:80] or "image"
    ext = ACCEPTED_FORMATS[info.format]
    name = default_storage.save(f"{BODY_IMAGES_DIR}/{timezone.now():%Y/%m}/{stem}.{ext}", upload)
    data = make_renditions(default_storage, name, widths=COVER_WIDTHS)
    made = renditions_list(data)
    embed = made[-1] if made else {"name": name, **data}  # animated: the original
    url = default_storage.url(embed["name"])
    return BodyImage(
        url=url,
        width=embed["width"],
        height=embed["height"],
        markdown=f"![{_markdown_alt(alt)}]({url})",
        renditions=data,
    )


# --- Generated images in bulk (seed_demo) ----------------------------------------------

# (storage name, a function drawing the image's bytes when the file is missing)
ImageJob = tuple[str, Callable[[], bytes]]


def images_generate(*, jobs: Sequence[ImageJob], widths: tuple[int, ...]) -> dict[str, dict]:
    """Store each missing file and make its renditions, a few at a time: Pillow lets
    go of the GIL while it encodes, so threads use every core. Returns name -> record."""

    def run(job: ImageJob) -> tuple[str, dict]:
        name, draw = job
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(draw()))
        return job[0], make_renditions(default_storage, name, widths=widths)

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(pool.map(run, jobs))


@transaction.atomic
def authors_set_avatars(*, avatars: Sequence[tuple[AuthorProfile, str, str, dict]]) -> None:
    """Give many authors a stored avatar at once: (author, file name, alt, renditions)."""
    for author, name, alt, record in avatars:
        author.avatar, author.avatar_alt, author.avatar_renditions = name, alt, record
    AuthorProfile.objects.bulk_update(
        [a for a, *_ in avatars], ["avatar", "avatar_alt", "avatar_renditions"], batch_size=500
    )
    # bulk_update sends no signals: name the pages that show these faces.
    invalidate_on_commit(
        {cache_tags.AUTHORS, cache_tags.POSTS} | {cache_tags.author(a.pk) for a, *_ in avatars}
    )
