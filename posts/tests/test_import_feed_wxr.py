"""manage.py import_feed with a WordPress export (posts/tests/data/wordpress.xml)."""

from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import AuthorProfile
from posts import services
from posts.models import PathRedirect, Post, Tag

WXR = Path(__file__).parent / "data" / "wordpress.xml"
pytestmark = pytest.mark.django_db(transaction=True)


def run(*args, **options) -> str:
    out = StringIO()
    call_command("import_feed", *map(str, args), stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def post(guid_id: int) -> Post:
    return Post.objects.get(source_guid=f"https://old.example.com/?p={guid_id}")


def test_statuses_map_to_published_scheduled_and_draft():
    run(WXR)

    assert post(10).status == "published" and post(10).is_public
    assert post(11).is_scheduled
    assert post(11).published_at == datetime(2031, 1, 1, 9, 0, tzinfo=UTC)
    for draft in (12, 13, 14, 15):  # draft, pending, private, password-protected
        assert post(draft).status == "draft"
    assert post(12).published_at is None
    assert set(Post.objects.public().values_list("slug", flat=True)) == {
        "hello-world",
        "untitled-note",
    }


def test_the_summary_reports_skipped_types_and_the_password_protected_post():
    out = run(WXR)

    lines = out.splitlines()
    assert lines[0].startswith("7 created, 0 updated, 0 unchanged, 3 skipped (wxr; 2 new authors")
    assert "  skipped 'About': a WordPress page, not a post" in lines
    assert "  skipped 'header-photo': a WordPress attachment, not a post" in lines
    assert "  skipped 'Home': a WordPress nav_menu_item, not a post" in lines
    assert "  note: Members only: password-protected: imported as a draft" in lines


def test_authors_come_from_wp_author_and_are_reused_on_a_second_import():
    run(WXR)
    authors = {a.handle: a.display_name for a in AuthorProfile.objects.all()}
    assert authors == {"janedoe": "Jane Doe", "omar": "Omar Haddad"}
    assert post(10).authors.get().handle == "janedoe"
    assert post(11).authors.get().handle == "omar"

    out = run(WXR)

    assert out.startswith("0 created, 0 updated, 7 unchanged, 3 skipped (wxr; 0 new authors")
    assert AuthorProfile.objects.count() == 2 and Post.objects.count() == 7


def test_categories_and_tags_become_tags_but_uncategorized_does_not():
    run(WXR)

    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Django", "Python"]
    assert [t.tag.name for t in post(10).post_tags.all()] == ["Python", "Django"]
    assert post(10).post_tags.get(is_primary=True).tag.name == "Python"
    assert not post(11).tags.exists()


def test_slugs_titles_and_bodies():
    run(WXR)

    hello = post(10)
    assert hello.slug == "hello-world"
    assert hello.title == ("Hello world 🎉 — שלום עולם, cafe\u0301 C:\\Users\\new\\test ]]> end")
    assert hello.summary == "A first post, written by hand."
    assert "wp:" not in hello.body and "<!--" not in hello.body_html
    assert hello.body_html.startswith("<p>Welcome to the <strong>new</strong> home")
    assert hello.published_at == datetime(2019, 5, 1, 10, 0, tzinfo=UTC)
    assert hello.updated_at == datetime(2019, 6, 2, 12, 30, tzinfo=UTC)
    assert hello.canonical_url == ""  # the blog moved here: this is its home now
    assert post(12).slug == "a-draft"  # no post_name: from the title
    untitled = post(16)
    assert untitled.title == "A quick note without a title, about caching pages in Redis…"
    assert untitled.slug == "untitled-note"


def test_a_taken_slug_gets_a_suffix():
    services.post_create(title="Hello world", slug="hello-world", status="published")

    run(WXR)

    assert post(10).slug == "hello-world-2"


def test_an_old_path_answers_301_to_the_post_and_follows_a_later_rename(client):
    run(WXR)

    response = client.get("/2019/05/hello-world/")
    assert response.status_code == 301
    assert response["Location"] == "/posts/hello-world/"
    assert client.get(response["Location"]).status_code == 200
    assert client.get("/2019/05/hello-world")["Location"] == "/posts/hello-world/"

    services.post_update(post=post(10), slug="hello-again")

    assert client.get("/2019/05/hello-world/")["Location"] == "/posts/hello-again/"
    assert client.head("/2019/05/hello-world/").status_code == 301


def test_old_paths_of_drafts_and_scheduled_posts_stay_404(client):
    run(WXR)
    assert PathRedirect.objects.filter(old_path="/2020/03/members-only/").exists()

    assert client.get("/2020/03/members-only/").status_code == 404
    assert client.get("/2031/01/in-the-future/").status_code == 404
    assert client.get("/no/such/path/").status_code == 404
    assert client.post("/2019/05/hello-world/").status_code != 301


def test_an_edited_wordpress_post_is_updated_in_place(tmp_path):
    run(WXR)
    edited = tmp_path / "edited.xml"
    edited.write_text(
        WXR.read_text().replace("It moved.</p>", "It moved, for good.</p>"), encoding="utf-8"
    )

    out = run(edited)

    assert out.startswith("0 created, 1 updated, 6 unchanged")
    assert "It moved, for good." in post(10).body_html
    assert post(10).slug == "hello-world"
    assert PathRedirect.objects.get(old_path="/2019/05/hello-world/").post == post(10)


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda text: text[: len(text) // 2], "not well-formed XML"),
        (
            lambda text: text.replace(
                "<rss ", '<!DOCTYPE rss [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>\n<rss ', 1
            ).replace("<title>Old Blog</title>", "<title>&b;</title>"),
            "refused XML construct",
        ),
    ],
    ids=["truncated", "entity-expansion"],
)
def test_a_damaged_or_hostile_export_is_refused_and_writes_nothing(damage, reason, tmp_path):
    path = tmp_path / "wordpress.xml"
    path.write_text(damage(WXR.read_text(encoding="utf-8")), encoding="utf-8")

    with pytest.raises(CommandError, match=reason) as failure:
        run(path)

    assert "\n" not in str(failure.value)
    assert not Post.objects.exists() and not AuthorProfile.objects.exists()
