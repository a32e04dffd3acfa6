"""The portable content format (docs/content-format.md) and its export.

One JSON document, `content.json`, beside a `media/` folder holding the
uploaded files it names. Rows keep their primary keys, so a restore into an
empty database gives back identical URLs, feed ids and pages. Output is
deterministic (keys and rows in a fixed order, no export time), so
exporting the same content twice gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage

from accounts.models import AuthorProfile, User
from core.images import renditions_list
from posts.models import Authorship, PathRedirect, Post, PostTag, Series, SlugHistory, Tag

FORMAT = "blogsite-content"
VERSION = 1
DOCUMENT = "content.json"
MEDIA_DIR = "media"

# Exported columns per section, in the order docs/content-format.md lists them.
# Derived columns (bio_html, published_post_count, search_vector) are rebuilt on import.
USER_FIELDS = ("id", "username", "first_name", "last_name")
AUTHOR_FIELDS = (
    "id", "user", "handle", "display_name", "tagline", "bio", "avatar", "avatar_alt",
    "avatar_renditions", "website", "twitter", "mastodon", "github", "linkedin",
    "created_at", "updated_at",
)  # fmt: skip
TAG_FIELDS = ("id", "name", "slug", "description", "created_at", "updated_at")
SERIES_FIELDS = ("id", "title", "slug", "description", "created_at", "updated_at")
POST_FIELDS = (
    "id", "title", "slug", "summary", "body", "body_format", "body_html", "cover_image",
    "cover_alt", "cover_renditions", "status", "published_at", "created_at", "updated_at",
    "canonical_url",
    "source_guid", "source_hash", "reading_minutes", "version", "series", "series_order",
)  # fmt: skip
AUTHORSHIP_FIELDS = ("post", "author", "position", "role")
POST_TAG_FIELDS = ("post", "tag", "position", "is_primary")
SLUG_HISTORY_FIELDS = ("kind", "old_slug", "object_id", "created_at")
PATH_REDIRECT_FIELDS = ("old_path", "post", "created_at")


@dataclass
class ExportReport:
    counts: dict[str, int] = field(default_factory=dict)
    missing_media: list[str] = field(default_factory=list)


def _rows(queryset, fields: tuple[str, ...], order: tuple[str, ...]) -> list[dict]:
    return [
        {name: _plain(value) for name, value in row.items()}
        for row in queryset.order_by(*order).values(*fields)
    ]


def _plain(value):
    # Full microseconds in UTC: DjangoJSONEncoder would cut them to milliseconds.
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def build_document() -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "users": _rows(User.objects.all(), USER_FIELDS, ("id",)),
        "authors": _rows(AuthorProfile.objects.all(), AUTHOR_FIELDS, ("id",)),
        "tags": _rows(Tag.objects.all(), TAG_FIELDS, ("id",)),
        "series": _rows(Series.objects.all(), SERIES_FIELDS, ("id",)),
        "posts": _rows(Post.objects.all(), POST_FIELDS, ("id",)),
        "authorships": _rows(
            Authorship.objects.all(), AUTHORSHIP_FIELDS, ("post", "position", "author")
        ),
        "post_tags": _rows(PostTag.objects.all(), POST_TAG_FIELDS, ("post", "position", "tag")),
        "slug_history": _rows(SlugHistory.objects.all(), SLUG_HISTORY_FIELDS, ("kind", "old_slug")),
        "path_redirects": _rows(PathRedirect.objects.all(), PATH_REDIRECT_FIELDS, ("old_path",)),
        "media": [],
    }


def media_names(document: dict) -> list[str]:
    """Every uploaded file the content names: covers, avatars and their renditions."""
    names = set()
    for rows, image, renditions in (
        (document["posts"], "cover_image", "cover_renditions"),
        (document["authors"], "avatar", "avatar_renditions"),
    ):
        for row in rows:
            names.add(row[image])
            names.update(r["name"] for r in renditions_list(row.get(renditions) or {}))
    return sorted(n for n in names if n)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_content(*, path: Path) -> ExportReport:
    """Write content.json and media/ into the directory `path` (created if needed)."""
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a directory")
    media_root = path / MEDIA_DIR
    storage_root = Path(settings.MEDIA_ROOT).resolve()
    if media_root.resolve() == storage_root or media_root.resolve() in storage_root.parents:
        raise FileExistsError(f"{path}: exporting there would overwrite MEDIA_ROOT; pick another")
    document = build_document()
    report = ExportReport()
    if media_root.exists():
        shutil.rmtree(media_root)  # files of an earlier export that may be gone now
    for name in media_names(document):
        if not default_storage.exists(name):
            report.missing_media.append(name)
            continue
        target = media_root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(name, "rb") as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        document["media"].append(
            {"path": name, "bytes": target.stat().st_size, "sha256": sha256_of(target)}
        )
    path.mkdir(parents=True, exist_ok=True)
    # Keys in the documented order (sections, then each row's columns as listed above).
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    (path / DOCUMENT).write_text(text, encoding="utf-8")
    sections = ("users", "authors", "tags", "series", "posts", "slug_history", "path_redirects")
    report.counts = {key: len(document[key]) for key in (*sections, "media")}
    return report
