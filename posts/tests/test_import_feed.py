"""manage.py import_feed with RSS and Atom files (WordPress files: test_import_feed_wxr.py)."""

import os
import subprocess
import sys
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from io import StringIO
from pathlib import Path

import pytest
from defusedxml import ElementTree
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuthorProfile
from core.cache.store import get_store
from posts.models import Authorship, Post, PostTag, Tag
from posts.tests.factories import AuthorFactory, TagFactory

DATA = Path(__file__).parent / "data"
SAMPLE = DATA / "forem-author-feed.xml"
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args, **options) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_feed", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def counts() -> dict[str, int]:
    models = (Post, Tag, AuthorProfile, Authorship, PostTag)
    return {m.__name__: m.objects.count() for m in models}


def sample_items() -> list:
    return ElementTree.parse(SAMPLE).getroot().findall("channel/item")


def cached_home(client) -> None:
    """Put the home page in the page cache, and prove it is served from there."""
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_the_dev_to_sample_imports_every_post_author_tag_and_date():
    out, _ = run(SAMPLE)

    assert out.splitlines()[0].startswith("12 created, 0 updated, 0 unchanged, 0 skipped (rss20")
    assert Post.objects.count() == 12
    author = AuthorProfile.objects.get()
    assert (author.handle, author.display_name) == ("kaushikcoderpy", "Kaushikcoderpy")
    for item in sample_items():
        post = Post.objects.get(source_guid=item.findtext("guid"))
        assert post.title == item.findtext("title")
        assert post.canonical_url == item.findtext("link")
        assert post.published_at == parsedate_to_datetime(item.findtext("pubDate"))
        assert post.status == Post.Status.PUBLISHED and post.body_format == "html"
        assert [t.tag.name for t in post.post_tags.select_related("tag")] == [
            c.text for c in item.findall("category")
        ]
        assert list(post.authors.all()) == [author]
        assert post.summary and len(post.summary) <= 161
    categories = {c.text for item in sample_items() for c in item.findall("category")}
    assert set(Tag.objects.values_list("name", flat=True)) == categories


def test_a_second_import_creates_nothing_and_reports_every_item_unchanged():
    run(SAMPLE)
    before = counts()
    versions = dict(Post.objects.values_list("pk", "version"))

    out, _ = run(SAMPLE)

    assert out.startswith("0 created, 0 updated, 12 unchanged, 0 skipped")
    assert counts() == before
    assert dict(Post.objects.values_list("pk", "version")) == versions


def test_a_changed_item_updates_exactly_that_post(tmp_path):
    run(SAMPLE)
    versions = dict(Post.objects.values_list("source_guid", "version"))
    changed = tmp_path / "changed.xml"
    text = SAMPLE.read_text()
    old_title = sample_items()[3].findtext("title")
    changed.write_text(text.replace(f"<title>{old_title}</title>", "<title>A new title</title>"))

    out, _ = run(changed)

    assert out.startswith("0 created, 1 updated, 11 unchanged")
    guid = sample_items()[3].findtext("guid")
    post = Post.objects.get(source_guid=guid)
    assert post.title == "A new title"
    after = dict(Post.objects.values_list("source_guid", "version"))
    assert {g for g in after if after[g] != versions[g]} == {guid}
    assert Post.objects.count() == 12


def test_a_dry_run_reports_the_summary_and_writes_nothing(client):
    cached_home(client)
    token = get_store().token()

    out, _ = run(SAMPLE, dry_run=True)

    assert out.startswith("Dry run, nothing written: would have 12 created, 0 updated")
    assert counts() == {
        "Post": 0,
        "Tag": 0,
        "AuthorProfile": 0,
        "Authorship": 0,
        "PostTag": 0,
    }
    assert get_store().token() == token
    assert client.get("/")["X-Page-Cache"] == "hit"


BAD_FILES = {
    "malformed": b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</titl>'
    b"</item></channel></rss>",
    "truncated": SAMPLE.read_bytes()[:6000],
    "html": b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>",
    "empty": b"",
    "binary": bytes(range(256)) * 8,
    "entity-bomb": b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 20}">'.encode()
        for p, n in zip("abcdef", "bcdefg", strict=True)
    )
    + b']><rss version="2.0"><channel><title>&g;</title></channel></rss>',
}


@pytest.mark.parametrize("kind", [*BAD_FILES, "missing"])
def test_a_bad_file_fails_with_one_line_and_changes_nothing(kind, tmp_path, client):
    run(SAMPLE)
    cached_home(client)
    before, token = counts(), get_store().token()
    path = tmp_path / f"{kind}.xml"
    if kind != "missing":
        path.write_bytes(BAD_FILES[kind])

    with pytest.raises(CommandError) as failure:
        run(path)

    message = str(failure.value)
    assert message.startswith(f"import_feed: {path}: ") and "\n" not in message
    assert counts() == before
    assert get_store().token() == token
    assert client.get("/")["X-Page-Cache"] == "hit"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(BAD_FILES["truncated"], "not well-formed XML"), (None, "no such file")],
)
def test_the_command_line_exits_non_zero_with_one_line_and_no_traceback(content, reason, tmp_path):
    path = tmp_path / "feed.xml"
    if content is not None:
        path.write_bytes(content)
    env = {**os.environ, "DEBUG": "true", "SECRET_KEY": "x" * 50}

    done = subprocess.run(
        [sys.executable, "manage.py", "import_feed", str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert reason in done.stderr and "Traceback" not in done.stderr


def test_hostile_html_in_items_is_stripped():
    run(DATA / "hostile.xml")

    post = Post.objects.get()
    html = post.body_html.lower()
    for bad in ("<script", "onclick", "onmouseover", "onerror", "onload", "javascript:", "data:"):
        assert bad not in html
    for bad in ("<iframe", "<svg", "<object", "<embed", "<form", "<input", "<style", "expression"):
        assert bad not in html
    assert "<p>Kept text</p>" in post.body_html
    assert (post.authors.get().handle, post.authors.get().display_name) == ("mallory", "Mallory")


def test_an_atom_feed_keeps_unicode_time_zones_byline_order_and_one_tag_per_spelling():
    TagFactory(name="Python")

    out, _ = run(DATA / "atom.xml")

    assert out.startswith("2 created, 0 updated, 0 unchanged, 0 skipped (atom10")
    first = Post.objects.get(source_guid="urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a")
    rtl = "\u0645\u0631\u062d\u0628\u0627"
    assert first.title == f"Combining e\u0301 and RTL {rtl} and a backslash \\o/"
    assert first.published_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert first.updated_at == datetime(2024, 3, 2, 15, 0, tzinfo=UTC)
    assert first.summary == "A hand-written summary."
    assert first.canonical_url == "https://atom.example.org/2024/first"
    assert first.body_html == "<p>Atom <em>body</em>.</p><h2>Heading</h2>"
    assert [t.tag.name for t in first.post_tags.all()] == ["Python", "Web Dev"]
    assert Tag.objects.filter(name__iexact="python").count() == 1
    second = Post.objects.get(title="Two authors")
    byline = [(a.author.display_name, a.role) for a in second.authorships.select_related("author")]
    assert byline == [("Zoë Ångström", "author"), ("Bob Builder", "co-author")]
    assert second.summary == "Xhtml content."


def test_an_rss_1_0_feed_imports_with_dc_dates_and_subjects():
    out, _ = run(DATA / "rss1.xml")

    assert out.startswith("2 created, 0 updated, 0 unchanged, 0 skipped (rss10")
    post = Post.objects.get(source_guid="https://rdf.example.net/a")
    assert post.published_at == datetime(2023, 7, 14, 16, 45, tzinfo=UTC)
    assert [t.tag.name for t in post.post_tags.all()] == ["Semantic Web"]
    assert post.authors.get().handle == "rdf-writer"
    assert post.summary == "Plain description of the first item."


def test_the_author_option_puts_every_post_on_that_existing_author():
    author = AuthorFactory(handle="editor", display_name="The Editor")

    run(SAMPLE, author="editor")

    assert AuthorProfile.objects.count() == 1
    assert set(Authorship.objects.values_list("author_id", flat=True)) == {author.pk}


def test_an_unknown_author_handle_is_a_clear_error_and_writes_nothing():
    with pytest.raises(CommandError, match="no author with the handle 'nobody'"):
        run(SAMPLE, author="nobody")
    assert counts()["Post"] == 0


def test_status_draft_imports_every_post_as_a_draft():
    run(SAMPLE, status="draft")

    assert set(Post.objects.values_list("status", flat=True)) == {"draft"}
    assert not Post.objects.public().exists()


def test_a_long_import_shows_progress_and_a_summary(tmp_path):
    items = "".join(
        f"<item><title>Item {n}</title><guid>urn:item:{n}</guid>"
        f"<description>&lt;p&gt;Body {n}&lt;/p&gt;</description>"
        f"<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate><author>a@b.org (A B)</author></item>"
        for n in range(250)
    )
    path = tmp_path / "long.xml"
    path.write_text(f'<rss version="2.0"><channel><title>L</title>{items}</channel></rss>')

    out, err = run(path)

    assert out.startswith("250 created, 0 updated, 0 unchanged, 0 skipped")
    assert err.splitlines()[-1] == "[####################] 250/250 items"
    assert Post.objects.count() == 250


def test_items_without_an_author_are_reported(tmp_path):
    path = tmp_path / "anonymous.xml"
    path.write_text(
        '<rss version="2.0"><channel><title>A</title>'
        "<item><title>Nobody wrote this</title><link>https://a.example/1</link></item>"
        "</channel></rss>"
    )

    out, _ = run(path)

    assert out.startswith("1 created")
    assert "note: 1 posts name no author in the feed and have no byline" in out
    assert not Post.objects.get().authors.exists()
