"""Read a content export (posts.importing.content) back into the database.

Into an empty database every row keeps its primary key (feed ids and URLs stay
the same) and sequences are moved past them. With `merge`, rows whose natural
key (username, handle, slug) already exists are kept as they are and the
export's rows are added beside them under new keys. Either way it is one
transaction, written through posts.services' bulk paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from django.contrib.auth.hashers import make_password
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.management.color import no_style
from django.db import connection, models, transaction

from accounts.models import AuthorProfile, User
from core.cache.store import purge
from posts import services
from posts.importing.content import (
    AUTHOR_FIELDS,
    DOCUMENT,
    FORMAT,
    MEDIA_DIR,
    POST_FIELDS,
    SERIES_FIELDS,
    TAG_FIELDS,
    VERSION,
    sha256_of,
)
from posts.importing.items import ImportFailed
from posts.models import Authorship, PathRedirect, Post, PostTag, Series, SlugHistory, Tag

SECTIONS = (
    "users", "authors", "tags", "series", "posts", "authorships", "post_tags",
    "slug_history", "path_redirects", "media",
)  # fmt: skip
CONTENT_MODELS = (Post, Tag, Series, AuthorProfile)
CHUNK = 1000


@dataclass
class RestoreReport:
    created: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)  # merge: already there, left alone


def load_document(path: Path) -> dict:
    """The parsed content.json of the export at `path`, checked for format and version."""
    file = path / DOCUMENT if path.is_dir() else path
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImportFailed(f"{file}: no such file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportFailed(f"{file}: not a JSON content export ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ImportFailed(f"{file}: not a {FORMAT} export")
    if document.get("version") != VERSION:
        raise ImportFailed(
            f"{file}: unknown format version {document.get('version')!r} "
            f"(this site reads version {VERSION})"
        )
    missing = [s for s in SECTIONS if not isinstance(document.get(s), list)]
    if missing:
        raise ImportFailed(f"{file}: malformed export, missing sections: {', '.join(missing)}")
    return document


def restore_content(*, path: Path, merge: bool = False) -> RestoreReport:
    document = load_document(path)
    media_dir = (path if path.is_dir() else path.parent) / MEDIA_DIR
    media = _checked_media(document["media"], media_dir)
    if not merge and any(m.objects.exists() for m in CONTENT_MODELS):
        found = ", ".join(
            f"{m.objects.count()} {m._meta.verbose_name_plural}" for m in CONTENT_MODELS
        )
        raise ImportFailed(f"the database already has content ({found}); use --merge to add to it")
    report = RestoreReport()
    copied: list[str] = []
    try:
        with transaction.atomic(), _original_timestamps():
            try:
                _Restore(document, merge, report).run()
            except (KeyError, TypeError, ValueError) as exc:
                raise ImportFailed(f"malformed export: {type(exc).__name__}: {exc}") from None
            copied = _copy_media(media, media_dir)
            transaction.on_commit(purge)  # every page may show restored content
    except BaseException:
        for name in copied:
            default_storage.delete(name)
        raise
    report.created["media"] = len(copied)
    return report


def _checked_media(entries: list[dict], media_dir: Path) -> list[dict]:
    for entry in entries:
        name = entry["path"]
        parts = PurePosixPath(name).parts
        if not name or name.startswith("/") or ".." in parts:
            raise ImportFailed(f"media path {name!r} is outside the media folder")
        file = media_dir / name
        if not file.is_file():
            raise ImportFailed(f"{file}: media file named in the export is missing")
        if sha256_of(file) != entry["sha256"]:
            raise ImportFailed(f"{file}: media file does not match its checksum")
    return entries


def _copy_media(entries: list[dict], media_dir: Path) -> list[str]:
    copied = []
    for entry in entries:
        name = entry["path"]
        if default_storage.exists(name):
            continue
        with (media_dir / name).open("rb") as fh:
            saved = default_storage.save(name, File(fh))
        copied.append(saved)
    return copied


@contextmanager
def _original_timestamps() -> Iterator[None]:
    """auto_now/auto_now_add would stamp restored rows with the time of the restore."""
    stamped = [
        f
        for model in (*CONTENT_MODELS, SlugHistory, PathRedirect)
        for f in model._meta.concrete_fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    for f in stamped:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _pick(model: type[models.Model], row: dict, fields: tuple[str, ...]) -> dict:
    """`fields` of an exported row; a field an older export lacks takes the model default."""
    out = {}
    for name in fields:
        if name in row:
            out[name] = row[name]
        elif name == "id":
            raise KeyError("id")
        else:
            f = model._meta.get_field(name)
            out[name] = None if f.is_relation else f.get_default()
    return out


def _datetimes(model: type[models.Model], row: dict) -> dict:
    out = dict(row)
    for f in model._meta.concrete_fields:
        if isinstance(f, models.DateTimeField) and isinstance(out.get(f.name), str):
            out[f.name] = datetime.fromisoformat(out[f.name])
    return out


class _Restore:
    def __init__(self, document: dict, merge: bool, report: RestoreReport) -> None:
        self.doc, self.merge, self.report = document, merge, report
        self.ids: dict[str, dict[int, int]] = {}  # section -> exported id -> database id
        self.profiled_users = set(
            AuthorProfile.objects.filter(user__isnull=False).values_list("user_id", flat=True)
        )

    def run(self) -> None:
        self.users()
        self.slugged("authors", AuthorProfile, AUTHOR_FIELDS, "handle", {"user": "users"})
        self.slugged("tags", Tag, TAG_FIELDS, "slug", {})
        self.slugged("series", Series, SERIES_FIELDS, "slug", {})
        self.posts()
        self.history()
        tables = [User, AuthorProfile, Tag, Series, Post, SlugHistory, PathRedirect]
        tables += [Authorship, PostTag]
        with connection.cursor() as cursor:
            if not self.merge:
                for sql in connection.ops.sequence_reset_sql(no_style(), tables):
                    cursor.execute(sql)
            if connection.vendor == "postgresql":
                # Fresh statistics, or the first queries plan for empty tables.
                for model in tables:
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')

    def count(self, section: str, created: int, kept: int) -> None:
        self.report.created[section] = created
        self.report.kept[section] = kept

    def users(self) -> None:
        rows = self.doc["users"]
        existing = dict(
            User.objects.filter(username__in=[r["username"] for r in rows]).values_list(
                "username", "pk"
            )
        )
        taken = set(User.objects.values_list("pk", flat=True))
        new = []
        for r in rows:
            if r["username"] in existing:
                continue
            pk = None if self.merge or r["id"] in taken else r["id"]
            new.append(
                User(
                    id=pk,
                    username=r["username"],
                    first_name=r["first_name"],
                    last_name=r["last_name"],
                    # Passwords are never exported: set one with `changepassword`.
                    password=make_password(None),
                )
            )
        User.objects.bulk_create(new)
        self.count("users", len(new), len(existing))
        by_name = dict(
            User.objects.filter(username__in=[r["username"] for r in rows]).values_list(
                "username", "pk"
            )
        )
        self.ids["users"] = {r["id"]: by_name[r["username"]] for r in rows}

    def slugged(self, section, model, fields, key, refs: dict[str, str]) -> None:
        rows = self.doc[section]
        existing = dict(
            model.objects.filter(**{f"{key}__in": [r[key] for r in rows]}).values_list(key, "pk")
        )
        new = []
        for r in rows:
            if r[key] in existing:
                continue
            values = _datetimes(model, _pick(model, r, fields))
            for ref, target in refs.items():
                values[f"{ref}_id"] = self.ids[target].get(values.pop(ref))
            if model is AuthorProfile and values["user_id"] in self.profiled_users:
                values["user_id"] = None  # merge: that login has a profile here already
            if self.merge:
                values["id"] = None
            new.append(model(**values))
        services.slugged_bulk_create(objects=new)
        self.count(section, len(new), len(existing))
        by_key = dict(
            model.objects.filter(**{f"{key}__in": [r[key] for r in rows]}).values_list(key, "pk")
        )
        self.ids[section] = {r["id"]: by_key[r[key]] for r in rows}

    def posts(self) -> None:
        rows = self.doc["posts"]
        taken_slugs = set(
            Post.objects.filter(slug__in=[r["slug"] for r in rows]).values_list("slug", flat=True)
        )
        guids = [r["source_guid"] for r in rows if r["source_guid"]]
        taken_guids = set(
            Post.objects.filter(source_guid__in=guids).values_list("source_guid", flat=True)
        )
        authors = AuthorProfile.objects.in_bulk(list(self.ids["authors"].values()))
        tags = Tag.objects.in_bulk(list(self.ids["tags"].values()))
        bylines: dict[int, list] = {}
        for r in self.doc["authorships"]:
            bylines.setdefault(r["post"], []).append(r)
        tag_rows: dict[int, list] = {}
        for r in self.doc["post_tags"]:
            tag_rows.setdefault(r["post"], []).append(r)
        items, kept = [], 0
        for r in rows:
            if r["slug"] in taken_slugs or (r["source_guid"] and r["source_guid"] in taken_guids):
                kept += 1
                continue
            values = _datetimes(Post, _pick(Post, r, POST_FIELDS))
            values["series_id"] = self.ids["series"].get(values.pop("series"))
            exported_id = values["id"]
            if self.merge:
                values["id"] = None
            byline = sorted(bylines.get(exported_id, []), key=lambda a: a["position"])
            chips = sorted(tag_rows.get(exported_id, []), key=lambda t: t["position"])
            primary = next(
                (tags[self.ids["tags"][t["tag"]]] for t in chips if t["is_primary"]), None
            )
            items.append(
                (
                    exported_id,
                    services.NewPost(
                        post=Post(**values),
                        authors=[
                            (authors[self.ids["authors"][a["author"]]], a["role"]) for a in byline
                        ],
                        tags=[tags[self.ids["tags"][t["tag"]]] for t in chips],
                        primary_tag=primary,
                        rendered=True,
                    ),
                )
            )
        # Chunks of at most 1000 posts: posts_bulk_create then refreshes the search
        # vectors of exactly those rows by id. One call for all would update every
        # row with a join the planner, with no statistics on freshly filled tables,
        # runs as a nested loop (15 minutes for 10,000 posts).
        for start in range(0, len(items), CHUNK):
            services.posts_bulk_create(items=[item for _, item in items[start : start + CHUNK]])
        self.ids["posts"] = {exported_id: item.post.pk for exported_id, item in items}
        self._positions(bylines, tag_rows)
        self.count("posts", len(items), kept)

    def _positions(self, bylines: dict, tag_rows: dict) -> None:
        """posts_bulk_create numbers bylines and tags 0, 1, …; put back any other numbering."""
        for exported_id, pk in self.ids["posts"].items():
            byline = sorted(bylines.get(exported_id, []), key=lambda a: a["position"])
            for index, a in enumerate(byline):
                if a["position"] != index:
                    Authorship.objects.filter(
                        post_id=pk, author_id=self.ids["authors"][a["author"]]
                    ).update(position=a["position"])
            chips = sorted(tag_rows.get(exported_id, []), key=lambda t: t["position"])
            for index, t in enumerate(chips):
                if t["position"] != index:
                    PostTag.objects.filter(post_id=pk, tag_id=self.ids["tags"][t["tag"]]).update(
                        position=t["position"]
                    )

    def history(self) -> None:
        sections = {"post": "posts", "tag": "tags", "author": "authors", "series": "series"}
        taken = set(SlugHistory.objects.values_list("kind", "old_slug"))
        entries = []
        for r in self.doc["slug_history"]:
            target = self.ids[sections[r["kind"]]].get(r["object_id"])
            if target is not None and (r["kind"], r["old_slug"]) not in taken:
                values = _datetimes(SlugHistory, r)
                entries.append(SlugHistory(**{**values, "object_id": target}))
        SlugHistory.objects.bulk_create(entries)
        self.count("slug_history", len(entries), len(self.doc["slug_history"]) - len(entries))
        taken_paths = set(PathRedirect.objects.values_list("old_path", flat=True))
        redirects = []
        for r in self.doc["path_redirects"]:
            target = self.ids["posts"].get(r["post"])
            if target is not None and r["old_path"] not in taken_paths:
                values = _datetimes(PathRedirect, r)
                del values["post"]
                redirects.append(PathRedirect(**values, post_id=target))
        PathRedirect.objects.bulk_create(redirects)
        kept = len(self.doc["path_redirects"]) - len(redirects)
        self.count("path_redirects", len(redirects), kept)
