"""One rule for who may edit and preview a post, asked by the admin and the views alike."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.tests.factories import UserFactory
from posts.models import Post
from posts.permissions import can_edit_post, can_preview_post, editable_posts, is_editor
from posts.tests.factories import AuthorFactory, PostFactory

pytestmark = pytest.mark.django_db


def member(role: str):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def people():
    ada, bob = member("Authors"), member("Authors")
    return {
        "ada": ada,
        "bob": bob,
        "editor": member("Editors"),
        "ada_profile": AuthorFactory(user=ada, handle="ada"),
        "bob_profile": AuthorFactory(user=bob, handle="bob"),
    }


def test_authors_may_edit_and_preview_only_posts_on_their_byline(people):
    mine = PostFactory(draft=True, authors=[people["ada_profile"]])
    shared = PostFactory(draft=True, authors=[people["bob_profile"], people["ada_profile"]])
    theirs = PostFactory(draft=True, authors=[people["bob_profile"]])
    ada = people["ada"]
    assert [can_edit_post(ada, p) for p in (mine, shared, theirs)] == [True, True, False]
    assert [can_preview_post(ada, p) for p in (mine, shared, theirs)] == [True, True, False]
    assert set(editable_posts(ada, Post.objects.all())) == {mine, shared}


def test_editors_may_edit_and_preview_every_post(people):
    theirs = PostFactory(draft=True, authors=[people["bob_profile"]])
    editor = people["editor"]
    assert is_editor(editor) and not is_editor(people["ada"])
    assert can_edit_post(editor, theirs) and can_preview_post(editor, theirs)
    assert editable_posts(editor, Post.objects.all()).count() == 1


def test_inactive_or_non_staff_users_may_do_nothing(people):
    post = PostFactory(draft=True, authors=[people["ada_profile"]])
    ada = people["ada"]
    ada.is_active = False
    assert not can_edit_post(ada, post) and not can_preview_post(ada, post)
    outsider = UserFactory()
    assert not can_preview_post(outsider, post)
    assert not editable_posts(outsider, Post.objects.all()).exists()


def test_an_author_gets_404_for_a_colleagues_draft_url_and_its_admin_pages(people):
    theirs = PostFactory(draft=True, slug="secret-plans", authors=[people["bob_profile"]])
    client = Client()
    client.force_login(people["ada"])
    assert client.get("/posts/secret-plans/").status_code == 404
    assert client.get(f"/admin/posts/post/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/posts/post/{theirs.pk}/delete/").status_code == 404
    listing = client.get("/admin/posts/post/")
    assert listing.status_code == 200
    assert theirs.title.replace("'", "&#x27;") not in listing.content.decode()


def test_an_author_previews_their_own_draft_at_its_url(people):
    PostFactory(draft=True, slug="my-draft", title="My draft", authors=[people["ada_profile"]])
    client = Client()
    client.force_login(people["ada"])
    response = client.get("/posts/my-draft/")
    assert response.status_code == 200
    assert "Preview — not public" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"


def test_an_editor_previews_any_draft_and_opens_its_admin_page(people):
    theirs = PostFactory(draft=True, slug="bobs-draft", authors=[people["bob_profile"]])
    client = Client()
    client.force_login(people["editor"])
    response = client.get("/posts/bobs-draft/")
    assert response.status_code == 200
    assert "Preview — not public" in response.content.decode()
    assert client.get(f"/admin/posts/post/{theirs.pk}/change/").status_code == 200


def test_a_staff_user_outside_both_roles_cannot_preview_a_draft():
    PostFactory(draft=True, slug="hidden", authors=[AuthorFactory()])
    client = Client()
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/posts/hidden/").status_code == 404
