"""Two people, one post: a save from a stale form is refused, with who changed what."""

import pytest
from django.core.cache import cache

from posts.models import Post
from posts.tests.admin_client import change_url, form_data, login
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_editors():
    ada, ada_user = login("Editors", first_name="Ada", last_name="Lovelace")
    bob, _bob_user = login("Editors", first_name="Bob", last_name="Builder")
    post = PostFactory(
        title="Indexes",
        summary="Why indexes help.",
        body="First line.\nSecond line.\n",
        authors=[ada_user.author_profile],
        draft=True,
    )
    return ada, bob, post


def test_a_stale_save_is_refused_and_keeps_the_first_save(two_editors):
    ada, bob, post = two_editors
    loaded = form_data(post)  # both open the form at the same version

    first = ada.post(
        change_url(post),
        {**loaded, "title": "Indexes, measured", "body": "First line.\nA better line.\n"},
    )
    assert first.status_code == 302
    second = bob.post(change_url(post), {**loaded, "body": "Bob's own paragraph.\n"})

    assert second.status_code == 200  # the form again, no redirect
    page = second.content.decode()
    post.refresh_from_db()
    assert post.title == "Indexes, measured"
    assert post.body.splitlines() == ["First line.", "A better line."]
    assert "Ada Lovelace saved this post after you opened it" in page
    assert "Ada Lovelace changed this post while you were editing" in page
    # Who changed what: the title before and after, the body as a line diff.
    assert "<del>Indexes</del>" in page and "<ins>Indexes, measured</ins>" in page
    assert "<del>Second line.</del>" in page and "<ins>A better line.</ins>" in page
    # Bob's text is still in his form.
    assert "Bob&#x27;s own paragraph." in page


def test_a_stale_save_goes_through_when_the_writer_chooses_to_overwrite(two_editors):
    ada, bob, post = two_editors
    loaded = form_data(post)
    ada.post(change_url(post), {**loaded, "title": "Ada's title"})

    response = bob.post(
        change_url(post), {**loaded, "title": "Bob's title", "overwrite_stale": "on"}
    )

    assert response.status_code == 302
    post.refresh_from_db()
    assert post.title == "Bob's title"
    assert post.version == 3  # created, Ada's save, Bob's save


def test_saves_from_a_fresh_form_one_after_the_other_both_go_through(two_editors):
    ada, bob, post = two_editors
    assert ada.post(change_url(post), form_data(post, title="One")).status_code == 302
    post.refresh_from_db()
    assert bob.post(change_url(post), form_data(post, title="Two")).status_code == 302
    post.refresh_from_db()
    assert post.title == "Two"


def test_the_form_names_the_others_who_have_the_post_open(two_editors):
    ada, bob, post = two_editors
    cache.clear()

    ada.get(change_url(post))
    page = bob.get(change_url(post)).content.decode()
    ping = ada.post(f"/admin/posts/post/{post.pk}/presence/")

    assert 'Also editing: <span id="presence-names">Ada Lovelace</span>' in page
    assert ping.status_code == 200
    assert ping.json() == {"others": ["Bob Builder"]}


def test_presence_is_refused_for_a_post_the_user_may_not_edit(two_editors):
    _, _, post = two_editors
    stranger, _ = login("Authors")

    response = stranger.post(f"/admin/posts/post/{post.pk}/presence/")

    assert response.status_code == 404
    assert Post.objects.filter(pk=post.pk).exists()
