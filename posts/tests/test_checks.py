"""Checks before publishing: each problem found from the rendered body, and publishing
through the form blocked until fixed (or overridden by an Editor)."""

import pytest

from core.rendering import render_body
from posts.checks import looks_like_file_name, problems
from posts.models import Post
from posts.tests.admin_client import change_url, form_data, login
from posts.tests.factories import PostFactory

GOOD_SUMMARY = "How a composite index turned a slow listing into a fast one."


def codes(markdown: str, **kwargs) -> list[str]:
    kwargs.setdefault("summary", GOOD_SUMMARY)
    return [p.code for p in problems(body_html=render_body(markdown), **kwargs)]


def test_a_clean_post_has_no_problems():
    body = (
        "## Setup\n\nText with [a link](https://example.com/).\n\n"
        "### Detail\n\n![A chart of timings](/media/c.png)\n"
    )
    assert codes(body) == []


def test_a_cover_without_alt_text_is_a_problem():
    assert codes("Text.", has_cover=True, cover_alt="") == ["cover-alt"]
    assert codes("Text.", has_cover=True, cover_alt="A lighthouse at dusk") == []


def test_a_body_image_without_alt_text_is_a_problem():
    found = problems(body_html=render_body("![](/media/chart.png)"), summary=GOOD_SUMMARY)
    assert [p.code for p in found] == ["image-alt"]
    assert "chart.png" in found[0].message


@pytest.mark.parametrize("alt", ["IMG_1234.jpg", "chart.PNG", "my_chart", "DSC01234", "IMG 1234"])
def test_a_file_name_like_alt_text_is_a_problem(alt):
    assert codes(f"![{alt}](/media/x.png)") == ["image-alt-filename"]
    assert looks_like_file_name(alt)


def test_a_missing_summary_is_a_problem():
    assert codes("Text.", summary="  ") == ["summary-missing"]


def test_a_summary_over_160_characters_is_a_problem():
    assert codes("Text.", summary="x" * 161) == ["summary-long"]
    assert codes("Text.", summary="x" * 160) == []


def test_a_skipped_heading_level_is_a_problem():
    assert codes("## Two\n\n#### Four\n") == ["heading-skip"]
    assert codes("### Starts at three\n") == ["heading-skip"]
    assert codes("## Two\n\n### Three\n\n## Two again\n") == []


def test_a_link_without_text_is_a_problem():
    assert codes("See [](https://example.com/).") == ["link-text"]
    assert codes('<a href="https://example.com/"><img src="/x.png" alt="Home"></a>') == []


# --- Publishing through the admin -----------------------------------------------------


@pytest.mark.django_db
def test_publishing_a_post_with_problems_is_blocked_with_the_list():
    client, user = login("Authors")
    post = PostFactory(summary="", body="#### Deep\n", authors=[user.author_profile], draft=True)

    response = client.post(change_url(post), form_data(post, _publish="Publish now"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Not published: fix these first" in page
    assert "Add a summary" in page and "The first heading is level 4" in page
    assert "Publish anyway" not in page  # Authors cannot override
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_publishing_goes_through_once_the_problems_are_fixed():
    client, user = login("Authors")
    post = PostFactory(summary="", body="## Fine\n", authors=[user.author_profile], draft=True)

    response = client.post(
        change_url(post), form_data(post, summary=GOOD_SUMMARY, _publish="Publish now")
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.is_public


@pytest.mark.django_db
def test_an_author_cannot_override_the_checks_by_sending_the_checkbox():
    client, user = login("Authors")
    post = PostFactory(summary="", authors=[user.author_profile], draft=True)

    response = client.post(change_url(post), form_data(post, _publish="1", publish_anyway="on"))

    assert response.status_code == 200
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_an_editor_may_publish_anyway_with_the_explicit_override():
    client, user = login("Editors")
    post = PostFactory(summary="", authors=[user.author_profile], draft=True)

    blocked = client.post(change_url(post), form_data(post, _publish="1"))
    assert blocked.status_code == 200
    assert "Publish anyway" in blocked.content.decode()
    post.refresh_from_db()
    allowed = client.post(change_url(post), form_data(post, _publish="1", publish_anyway="on"))

    assert allowed.status_code == 302
    post.refresh_from_db()
    assert post.is_public


@pytest.mark.django_db
def test_scheduling_is_checked_like_publishing():
    client, user = login("Authors")
    post = PostFactory(summary="", authors=[user.author_profile], draft=True)

    response = client.post(
        change_url(post), form_data(post, _schedule="1", schedule_at="2099-01-01T09:00")
    )

    assert response.status_code == 200
    assert "Add a summary" in response.content.decode()
    post.refresh_from_db()
    assert post.status == Post.Status.DRAFT


@pytest.mark.django_db
def test_the_bulk_publish_action_skips_posts_with_problems():
    client, user = login("Authors")
    good = PostFactory(
        summary=GOOD_SUMMARY, body="Text.", authors=[user.author_profile], draft=True
    )
    bad = PostFactory(summary="", body="Text.", authors=[user.author_profile], draft=True)

    response = client.post(
        "/admin/posts/post/",
        {"action": "publish_now", "_selected_action": [good.pk, bad.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Published 1 post(s)." in response.content.decode()
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.is_public and bad.status == Post.Status.DRAFT
