"""Who may do what in the admin: authors their own posts, editors everything."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from accounts.tests.factories import UserFactory
from posts.models import Post, SlugHistory
from posts.tests.admin_client import form_data
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def login(role: str) -> tuple[Client, object]:
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client, user


def test_migrate_creates_the_author_and_editor_roles():
    editors = Group.objects.get(name="Editors")
    authors = Group.objects.get(name="Authors")
    assert editors.permissions.filter(codename="edit_any_post").exists()
    assert not authors.permissions.filter(codename="edit_any_post").exists()
    assert authors.permissions.filter(codename="change_post").exists()


def test_authors_see_and_edit_only_their_own_posts():
    client, user = login("Authors")
    mine = PostFactory(title="Mine", authors=[AuthorFactory(user=user)])
    theirs = PostFactory(title="Someone else's", authors=[AuthorFactory()])
    listing = client.get("/admin/posts/post/").content.decode()
    assert "Mine" in listing and "Someone else&#x27;s" not in listing
    assert client.get(f"/admin/posts/post/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/posts/post/{theirs.pk}/change/").status_code == 404
    assert client.get(f"/admin/posts/post/{theirs.pk}/history/").status_code == 404
    response = client.post(f"/admin/posts/post/{theirs.pk}/delete/", {"post": "yes"})
    assert response.status_code == 404
    assert Post.objects.filter(pk=theirs.pk).exists()


def test_editors_see_and_edit_every_post():
    client, _ = login("Editors")
    theirs = PostFactory(title="Someone else's", authors=[AuthorFactory()])
    assert "Someone else&#x27;s" in client.get("/admin/posts/post/").content.decode()
    assert client.get(f"/admin/posts/post/{theirs.pk}/change/").status_code == 200


def test_a_new_post_by_an_author_carries_their_byline():
    client, user = login("Authors")
    profile = AuthorFactory(user=user)
    data = form_data(title="Fresh", slug="fresh", body="Hello")
    response = client.post("/admin/posts/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    post = Post.objects.get(slug="fresh")
    assert [a.author for a in post.authorships.all()] == [profile]


def test_tag_series_and_author_admins_write_through_the_services():
    client, _ = login("Editors")
    tag = TagFactory(name="Pyhton", slug="pyhton")
    response = client.post(
        f"/admin/posts/tag/{tag.pk}/change/",
        {"name": "Python", "slug": "python", "description": ""},
    )
    assert response.status_code == 302
    assert client.get("/tags/pyhton/")["Location"] == "/tags/python/"  # URL history kept
    series = SeriesFactory(slug="old-series")
    response = client.post(f"/admin/posts/series/{series.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SlugHistory.objects.filter(kind="series", object_id=series.pk).exists()
    assert client.get("/series/old-series/").status_code == 404
