"""Revisions: one per explicit save with byline and tags, compared and restored."""

import pytest

from posts.models import Post, PostRevision
from posts.tests.admin_client import change_url, form_data, login
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editing():
    client, user = login("Editors", first_name="Ada", last_name="Lovelace")
    me = user.author_profile
    grace = AuthorFactory(display_name="Grace Hopper")
    django, pg = TagFactory(name="Django"), TagFactory(name="PostgreSQL")
    post = PostFactory(
        title="First title",
        body="Line one.\nLine two.\n",
        authors=[me],
        tags=[django],
        draft=True,
    )
    client.post(change_url(post), form_data(post))  # the first revision, as saved
    post.refresh_from_db()
    return client, user, post, grace, django, pg


def save_with_byline_and_tags(client, post, *, title, authors, tags, body=None):
    data = form_data(post, title=title, body=body or post.body)
    # Replace the inlines: existing rows deleted, new rows in the given order.
    for prefix, rows, key in (("authorships", authors, "author"), ("post_tags", tags, "tag")):
        initial = int(data[f"{prefix}-INITIAL_FORMS"])
        for n in range(initial):
            data[f"{prefix}-{n}-DELETE"] = "on"
        for m, obj in enumerate(rows):
            n = initial + m
            data[f"{prefix}-{n}-{key}"] = obj.pk
            data[f"{prefix}-{n}-position"] = m
            if prefix == "authorships":
                data[f"{prefix}-{n}-role"] = "author"
        data[f"{prefix}-TOTAL_FORMS"] = initial + len(rows)
    return client.post(change_url(post), data)


def test_every_save_keeps_one_revision_with_who_byline_and_tags(editing):
    client, user, post, grace, django, pg = editing
    assert PostRevision.objects.filter(post=post).count() == 1

    response = save_with_byline_and_tags(
        client, post, title="Second title", authors=[grace, user.author_profile], tags=[pg, django]
    )

    assert response.status_code == 302
    revisions = list(PostRevision.objects.filter(post=post))
    assert len(revisions) == 2
    latest = revisions[0]
    assert latest.history.title == "Second title"
    assert latest.history.history_user == user
    assert [row["name"] for row in latest.byline] == ["Grace Hopper", "Ada Lovelace"]
    assert [(row["name"], row["primary"]) for row in latest.tags] == [
        ("PostgreSQL", True),
        ("Django", False),
    ]


def test_the_history_page_compares_two_revisions_field_by_field(editing):
    client, _user, post, grace, _django, pg = editing
    save_with_byline_and_tags(
        client,
        post,
        title="Second title",
        body="Line one.\nLine 2, better.\n",
        authors=[grace],
        tags=[pg],
    )
    older, newer = sorted(PostRevision.objects.filter(post=post), key=lambda r: r.pk)

    response = client.get(f"/admin/posts/post/{post.pk}/history/?a={older.pk}&b={newer.pk}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "<del>First title</del>" in page and "<ins>Second title</ins>" in page
    assert "<del>Line two.</del>" in page and "<ins>Line 2, better.</ins>" in page
    assert "<del>Ada Lovelace</del>" in page and "<ins>Grace Hopper</ins>" in page
    assert "<del>Django (primary)</del>" in page and "<ins>PostgreSQL (primary)</ins>" in page
    assert "Ada Lovelace" in page  # who saved


def test_restoring_a_revision_brings_back_text_byline_and_tags_as_a_new_revision(editing):
    client, user, post, grace, django, pg = editing
    first = PostRevision.objects.get(post=post)
    save_with_byline_and_tags(
        client, post, title="Second title", authors=[grace], tags=[pg, django]
    )

    response = client.post(f"/admin/posts/post/{post.pk}/revisions/{first.pk}/restore/")

    assert response.status_code == 302
    post = Post.objects.get(pk=post.pk)
    assert post.title == "First title"
    assert [a.author for a in post.authorships.all()] == [user.author_profile]
    assert [(r.tag, r.is_primary) for r in post.post_tags.all()] == [(django, True)]
    revisions = list(PostRevision.objects.filter(post=post))
    assert len(revisions) == 3
    assert revisions[0].history.title == "First title"
    assert revisions[0].history.history_user == user


def test_simple_history_revert_is_sent_to_the_revisions_page(editing):
    client, _, post, *_ = editing
    history_id = post.history.first().history_id

    response = client.get(f"/admin/posts/post/{post.pk}/history/{history_id}/")

    assert response.status_code == 302
    assert response["Location"] == f"/admin/posts/post/{post.pk}/history/"


def test_another_authors_revisions_are_not_shown():
    client, _ = login("Authors")
    post = PostFactory(draft=True)

    assert client.get(f"/admin/posts/post/{post.pk}/history/").status_code == 404
