"""The writing experience in the admin: live preview, list, publishing, dashboard."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from core.rendering import plain_text, render_body
from posts.models import Post, PostRevision
from posts.tests.admin_client import change_url, form_data, login
from posts.tests.factories import PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db

BODY = "## Setup\n\n```python\nprint('hi')\n```\n\n| a | b |\n| - | - |\n| 1 | 2 |\n"


# --- Live preview ---------------------------------------------------------------------


def test_the_preview_is_exactly_what_the_site_publishes():
    client, _ = login("Authors")

    response = client.post(
        "/admin/posts/post/preview/", {"body": BODY, "summary": "", "body_format": "markdown"}
    )

    assert response.status_code == 200
    data = response.json()
    assert data["html"] == render_body(BODY)
    assert 'class="highlight"><code class="language-python">' in data["html"]
    assert "<table>" in data["html"]
    assert data["words"] == len(plain_text(data["html"]).split()) == 9
    assert data["minutes"] == 1
    assert [p["code"] for p in data["problems"]] == ["summary-missing"]


def test_the_preview_reports_the_cover_without_alt_text():
    client, _ = login("Authors")

    data = client.post(
        "/admin/posts/post/preview/",
        {"body": "Hi", "summary": "Fine.", "has_cover": "1", "cover_alt": ""},
    ).json()

    assert [p["code"] for p in data["problems"]] == ["cover-alt"]


def test_the_preview_needs_csrf_and_a_staff_login():
    client, user = login("Authors")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)

    assert strict.post("/admin/posts/post/preview/", {"body": "x"}).status_code == 403
    assert Client().post("/admin/posts/post/preview/", {"body": "x"}).status_code == 302
    assert client.get("/admin/posts/post/preview/").status_code == 405


def test_the_preview_refuses_an_unknown_body_format():
    client, _ = login("Authors")
    response = client.post("/admin/posts/post/preview/", {"body": "x", "body_format": "rst"})
    assert response.status_code == 400
    assert response.json() == {"error": "Unknown body format 'rst'."}


def test_the_change_form_has_the_editor_preview_and_no_inline_script():
    client, user = login("Authors")
    post = PostFactory(body=BODY, authors=[user.author_profile], draft=True)

    page = client.get(change_url(post)).content.decode()

    assert 'id="editor-preview"' in page and "language-python" in page
    assert 'data-preview-url="/admin/posts/post/preview/"' in page
    assert f'data-draft-key="post-{post.pk}"' in page
    assert "js/admin-editor.js" in page and "css/pygments.css" in page
    assert "<script>" not in page and " onclick=" not in page


# --- New posts ------------------------------------------------------------------------


def test_a_new_post_form_starts_with_the_writer_on_the_byline():
    client, user = login("Authors")

    page = client.get("/admin/posts/post/add/").content.decode()

    assert 'name="authorships-TOTAL_FORMS" value="1"' in page
    assert f'<option value="{user.author_profile.pk}" selected>' in page
    assert 'data-draft-key="post-new"' in page


def test_adding_a_post_keeps_a_first_revision():
    client, user = login("Authors")
    data = form_data(title="Fresh", slug="fresh", body="Hello")

    assert client.post("/admin/posts/post/add/", data).status_code == 302

    post = Post.objects.get(slug="fresh")
    revision = PostRevision.objects.get(post=post)
    assert [row["author"] for row in revision.byline] == [user.author_profile.pk]


# --- Publishing -----------------------------------------------------------------------


def ready(user, **kwargs):
    kwargs.setdefault("summary", "A short, clear summary.")
    kwargs.setdefault("body", "## Fine\n\nText.")
    return PostFactory(authors=[user.author_profile], draft=True, **kwargs)


def test_publish_now_from_the_form():
    client, user = login("Authors")
    post = ready(user)

    response = client.post(change_url(post), form_data(post, _publish="1"))

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.is_public and post.published_at <= timezone.now()


def test_schedule_from_the_form_shows_the_time_and_how_long_until():
    client, user = login("Authors")
    post = ready(user)
    at = timezone.localtime() + timedelta(hours=3, minutes=5)

    response = client.post(
        change_url(post), form_data(post, _schedule="1", schedule_at=at.strftime("%Y-%m-%dT%H:%M"))
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.is_scheduled
    assert post.published_at == at.replace(second=0, microsecond=0)
    listing = client.get("/admin/posts/post/").content.decode()
    assert "status-label--scheduled" in listing and "(in 3\xa0hours" in listing


def test_scheduling_in_the_past_is_refused_with_a_message():
    client, user = login("Authors")
    post = ready(user)

    response = client.post(
        change_url(post), form_data(post, _schedule="1", schedule_at="2001-01-01T10:00")
    )

    assert response.status_code == 200
    assert "Pick a time in the future to schedule the post." in response.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


def test_the_form_shows_the_site_time_zone_for_scheduling(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    client, user = login("Authors")
    post = ready(user)

    page = client.get(change_url(post)).content.decode()

    assert '<span class="schedule__tz">(Europe/Berlin)</span>' in page


def test_unpublish_from_the_form_and_view_on_site_only_when_public():
    client, user = login("Authors")
    post = ready(user)
    client.post(change_url(post), form_data(post, _publish="1"))
    post.refresh_from_db()
    assert "View on site" in client.get(change_url(post)).content.decode()

    response = client.post(change_url(post), form_data(post, _unpublish="1"))

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT
    assert "View on site" not in client.get(change_url(post)).content.decode()


def test_duplicate_as_draft_from_the_form():
    client, user = login("Authors")
    tag = TagFactory(name="Django")
    post = PostFactory(title="Original", authors=[user.author_profile], tags=[tag])

    response = client.post(f"/admin/posts/post/{post.pk}/duplicate/")

    copy = Post.objects.exclude(pk=post.pk).get(title="Original")
    assert response.status_code == 302 and response["Location"] == change_url(copy)
    assert copy.status == Post.Status.DRAFT
    assert [a.author for a in copy.authorships.all()] == [user.author_profile]
    assert [r.tag for r in copy.post_tags.all()] == [tag]
    assert PostRevision.objects.filter(post=copy).count() == 1


# --- The list -------------------------------------------------------------------------


def test_the_list_shows_status_authors_primary_tag_and_filters_scheduled():
    client, user = login("Editors")
    tag = TagFactory(name="PostgreSQL")
    PostFactory(title="Live one", authors=[user.author_profile], tags=[tag])
    PostFactory(title="Later one", scheduled=True, authors=[user.author_profile])
    PostFactory(title="Draft one", draft=True, authors=[user.author_profile])

    page = client.get("/admin/posts/post/").content.decode()
    scheduled = client.get("/admin/posts/post/?state=scheduled").content.decode()

    assert "status-label--published" in page and "status-label--draft" in page
    assert user.author_profile.display_name in page
    assert '<td class="field-primary_tag">PostgreSQL</td>' in page
    assert "Later one" in scheduled and "Live one" not in scheduled and "Draft one" not in scheduled


def test_the_list_filters_by_author_tag_and_series():
    client, user = login("Editors")
    tag, series = TagFactory(name="Django"), SeriesFactory(title="Deep dive")
    PostFactory(title="Tagged", tags=[tag], series=series, authors=[user.author_profile])
    PostFactory(title="Plain")

    by_tag = client.get(f"/admin/posts/post/?tags__id__exact={tag.pk}").content.decode()
    by_series = client.get(f"/admin/posts/post/?series__id__exact={series.pk}").content.decode()
    by_author = client.get(
        f"/admin/posts/post/?authors__id__exact={user.author_profile.pk}"
    ).content.decode()

    for page in (by_tag, by_series, by_author):
        assert "Tagged" in page and ">Plain<" not in page


def test_the_list_query_count_does_not_grow_with_posts(django_assert_max_num_queries):
    client, user = login("Editors")
    for _ in range(15):
        PostFactory(authors=[user.author_profile], tags=[TagFactory()])

    with django_assert_max_num_queries(20):
        assert client.get("/admin/posts/post/").status_code == 200


def test_bulk_unpublish_and_add_tag_go_through_the_services():
    client, user = login("Authors")
    tag = TagFactory(name="Performance")
    a = PostFactory(authors=[user.author_profile])
    b = PostFactory(authors=[user.author_profile])

    client.post("/admin/posts/post/", {"action": "unpublish", "_selected_action": [a.pk, b.pk]})
    added = client.post(
        "/admin/posts/post/",
        {"action": "add_tag", "tag": tag.pk, "_selected_action": [a.pk, b.pk]},
        follow=True,
    )

    assert "Added “Performance” to 2 post(s)." in added.content.decode()
    for post in (a, b):
        post.refresh_from_db()
        assert post.status == Post.Status.DRAFT
        assert [r.tag for r in post.post_tags.all()] == [tag]
        assert PostRevision.objects.filter(post=post).count() == 2


def test_bulk_add_tag_without_a_tag_says_so():
    client, user = login("Authors")
    post = PostFactory(authors=[user.author_profile])

    response = client.post(
        "/admin/posts/post/", {"action": "add_tag", "_selected_action": [post.pk]}, follow=True
    )

    assert "Choose the tag to add first." in response.content.decode()


# --- Dashboard ------------------------------------------------------------------------


def test_the_dashboard_lists_my_drafts_scheduled_and_recent_posts():
    client, user = login("Authors")
    ready(user, title="My draft")
    PostFactory(title="My later post", scheduled=True, authors=[user.author_profile])
    PostFactory(title="Someone's live post")
    PostFactory(title="Someone's draft", draft=True)

    page = client.get("/admin/").content.decode()

    assert "Write a post" in page and 'href="/admin/posts/post/add/"' in page
    drafts, rest = page.split('id="dash-drafts"', 1)[1].split('id="dash-scheduled"', 1)
    scheduled, published = rest.split('id="dash-published"', 1)
    assert "My draft" in drafts and "Someone&#x27;s draft" not in page
    assert "My later post" in scheduled and "(in 23\xa0hours" in scheduled
    assert "Someone&#x27;s live post" in published
