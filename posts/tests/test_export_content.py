"""export_content / import_content: a lossless round trip of the whole site."""

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from PIL import Image

from accounts.models import AuthorProfile, User
from posts import services
from posts.models import Authorship, PathRedirect, Post, PostTag, Tag
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db(transaction=True)


def png(color: str) -> ContentFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), color).save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name=f"{color}.png")


@pytest.fixture
def site(media_root, no_page_cache):
    """Co-authors with roles, a series, renamed slugs, scheduled and draft posts, uploads."""
    ada = AuthorFactory(handle="ada", display_name="Ada Lindqvist")
    kofi = AuthorFactory(handle="kofi", display_name="Kofi Mensah", user=None)
    ada.avatar, ada.avatar_alt = png("red"), "Ada, smiling"
    services.author_save(author=ada)
    python, django_tag = (
        TagFactory(name="Python", slug="python"),
        TagFactory(name="Django", slug="django"),
    )
    series = SeriesFactory(title="Caching in depth", slug="caching")
    now = timezone.now()
    posts = [
        PostFactory(
            slug=f"part-{n}",
            series=series,
            series_order=n,
            published_at=now - timedelta(days=20 - n, minutes=7),
            authors=[ada, (kofi, "co-author")] if n % 2 else [kofi, (ada, "editor")],
            tags=[python, django_tag] if n % 2 else [django_tag],
        )
        for n in range(1, 13)
    ]
    # Edits start from the saved row, as in the admin (a factory's instance holds no
    # search vector, and saving it whole would write that back).
    posts = [Post.objects.get(pk=p.pk) for p in posts]
    cover = posts[0]
    cover.cover_image, cover.cover_alt = png("blue"), "A blue square"
    services.post_save(post=cover)
    services.post_update(post=posts[1], slug="part-two-renamed")
    services.tag_update(tag=django_tag, slug="django-web")
    services.post_set_tags(post=posts[2], tags=[python, django_tag], primary=django_tag)
    PostFactory(slug="later", scheduled=True, authors=[ada])
    PostFactory(slug="unfinished", draft=True, authors=[kofi])
    PathRedirect.objects.create(old_path="/2019/05/hello/", post=posts[3])
    return posts


def public_urls(client) -> list[str]:
    urls = ["/", "/?page=2", "/tags/", "/authors/", "/feed/", "/feed/atom/", "/feed.json"]
    urls += ["/sitemap.xml", "/robots.txt", "/search/?q=cache", "/posts/part-2/"]
    urls += ["/tags/django/", "/2019/05/hello/"]  # old slug and old path: 301s
    urls += [p.get_absolute_url() for p in Post.objects.all()]
    for tag in Tag.objects.all():
        urls += [tag.get_absolute_url(), f"{tag.get_absolute_url()}feed/"]
    for author in AuthorProfile.objects.all():
        urls += [author.get_absolute_url(), f"{author.get_absolute_url()}feed/"]
    urls += ["/series/caching/"]
    sitemap = client.get("/sitemap.xml").content.decode()
    urls += [re.sub(r"^https?://[^/]+", "", u) for u in re.findall(r"<loc>([^<]+)</loc>", sitemap)]
    return sorted(set(urls))


def snapshot(client) -> dict[str, tuple[int, str, bytes]]:
    pages = {}
    for url in public_urls(client):
        response = client.get(url)
        pages[url] = (response.status_code, response.get("Location", ""), response.content)
    return pages


def export(path: Path) -> str:
    out = io.StringIO()
    call_command("export_content", str(path), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def restore(path: Path, **options) -> str:
    out = io.StringIO()
    call_command("import_content", str(path), stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def test_export_flush_import_gives_the_same_pages_and_the_same_export(site, client, tmp_path):
    before = snapshot(client)
    assert before["/posts/part-2/"][:2] == (301, "/posts/part-two-renamed/")
    assert before["/2019/05/hello/"][:2] == (301, "/posts/part-4/")
    assert sum(status == 200 for status, _, _ in before.values()) >= 35
    export(tmp_path / "one")
    exported = tmp_path / "one" / "media"
    originals = sorted(p.name for p in exported.rglob("*.png") if "renditions" not in p.parts)
    assert originals == ["blue.png", "red.png"]
    assert len(list((exported / "renditions").glob("*.webp"))) >= 2  # renditions travel too

    call_command("flush", interactive=False)
    for stored in Path(site[0].cover_image.storage.location).rglob("*.*"):
        stored.unlink()
    assert not Post.objects.exists()
    out = restore(tmp_path / "one")

    assert out.startswith("Imported from")
    after = snapshot(client)
    assert after.keys() == before.keys()
    for url in before:
        assert after[url] == before[url], url
    assert client.get(site[0].cover_image.url).status_code in (200, 404)  # served or not: same
    export(tmp_path / "two")
    first = (tmp_path / "one" / "content.json").read_bytes()
    assert (tmp_path / "two" / "content.json").read_bytes() == first


def test_the_export_holds_every_row_with_positions_roles_and_primary_flags(site, tmp_path):
    tmp_path = tmp_path / "export"  # beside MEDIA_ROOT, not over it
    export(tmp_path)

    document = json.loads((tmp_path / "content.json").read_text())
    assert list(document)[:2] == ["format", "version"]
    assert (document["format"], document["version"]) == ("blogsite-content", 1)
    assert len(document["posts"]) == Post.objects.count() == 14
    assert len(document["authorships"]) == Authorship.objects.count()
    assert len(document["post_tags"]) == PostTag.objects.count()
    assert {"part-2", "django"} <= {h["old_slug"] for h in document["slug_history"]}
    third = next(p for p in document["posts"] if p["slug"] == "part-3")
    chips = [t for t in document["post_tags"] if t["post"] == third["id"]]
    assert [(t["position"], t["is_primary"]) for t in chips] == [(0, False), (1, True)]
    roles = {a["role"] for a in document["authorships"]}
    assert roles == {"author", "co-author", "editor"}
    user_fields = {key for user in document["users"] for key in user}
    assert user_fields == {"id", "username", "first_name", "last_name"}
    assert "password" not in (tmp_path / "content.json").read_text()
    assert {p["status"] for p in document["posts"]} == {"published", "draft"}


def test_import_refuses_a_database_with_content_unless_merging(site, tmp_path):
    tmp_path = tmp_path / "export"  # beside MEDIA_ROOT, not over it
    export(tmp_path)
    counts = (Post.objects.count(), Tag.objects.count())

    with pytest.raises(CommandError, match=r"already has content .*use --merge"):
        restore(tmp_path)

    assert (Post.objects.count(), Tag.objects.count()) == counts


def test_merge_adds_only_what_is_missing(site, tmp_path):
    tmp_path = tmp_path / "export"  # beside MEDIA_ROOT, not over it
    export(tmp_path)
    services.post_delete(post=Post.objects.get(slug="part-5"))
    services.tag_delete(tag=Tag.objects.get(slug="python"))

    out = restore(tmp_path, merge=True)

    assert "Already present, left as they were" in out
    assert Post.objects.count() == 14
    added = Post.objects.get(slug="part-5")
    assert [t.tag.slug for t in added.post_tags.select_related("tag")] == ["python", "django-web"]
    assert Tag.objects.filter(slug="python").count() == 1
    assert User.objects.filter(username__startswith="user").count() == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"format": "blogsite-content", "version": 2}', "unknown format version 2"),
        ('{"format": "something-else", "version": 1}', "not a blogsite-content export"),
        ("{not json", "not a JSON content export"),
        ('{"format": "blogsite-content", "version": 1, "posts": []}', "missing sections"),
    ],
)
def test_import_refuses_a_file_it_cannot_read(content, reason, tmp_path):
    (tmp_path / "content.json").write_text(content)

    with pytest.raises(CommandError, match=reason) as failure:
        restore(tmp_path)

    assert "\n" not in str(failure.value)
    assert not Post.objects.exists()


def test_a_failed_import_writes_nothing(site, tmp_path):
    tmp_path = tmp_path / "export"  # beside MEDIA_ROOT, not over it
    export(tmp_path)
    document = json.loads((tmp_path / "content.json").read_text())
    document["posts"][-1]["status"] = None  # violates NOT NULL after the other rows went in
    (tmp_path / "content.json").write_text(json.dumps(document))
    call_command("flush", interactive=False)

    with pytest.raises(CommandError, match="nothing imported"):
        restore(tmp_path)

    assert (Post.objects.count(), Tag.objects.count(), AuthorProfile.objects.count()) == (0, 0, 0)


def test_a_tampered_media_file_is_refused(site, tmp_path):
    export(tmp_path / "export")
    next((tmp_path / "export" / "media").rglob("*.png")).write_bytes(b"not the picture")
    call_command("flush", interactive=False)

    with pytest.raises(CommandError, match="does not match its checksum"):
        restore(tmp_path / "export")

    assert not Post.objects.exists()


def test_an_export_never_overwrites_the_uploads(site, tmp_path, settings):
    with pytest.raises(CommandError, match="would overwrite MEDIA_ROOT"):
        export(Path(settings.MEDIA_ROOT).parent)

    uploads = [p for p in Path(settings.MEDIA_ROOT).rglob("*.png") if "renditions" not in p.parts]
    assert len(uploads) == 2


def test_unknown_fields_are_ignored_and_missing_ones_take_the_default(site, tmp_path):
    tmp_path = tmp_path / "export"
    export(tmp_path)
    document = json.loads((tmp_path / "content.json").read_text())
    for author in document["authors"]:
        author["pronouns"] = "they/them"  # from a newer site
        del author["tagline"]  # from an older one
    (tmp_path / "content.json").write_text(json.dumps(document))
    call_command("flush", interactive=False)

    restore(tmp_path)

    assert AuthorProfile.objects.count() == 2
    assert set(AuthorProfile.objects.values_list("tagline", flat=True)) == {""}
