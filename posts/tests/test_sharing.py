"""Shared preview links: work without login, expire, can be tampered with or revoked,
never cached, never indexed."""

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from posts import sharing
from posts.models import PreviewLink
from posts.tests.admin_client import change_url, login
from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    return PostFactory(title="A draft to share", draft=True)


def test_a_shared_link_shows_the_draft_without_login(draft):
    response = Client().get(sharing.share(post=draft))

    assert response.status_code == 200
    page = response.content.decode()
    assert "A draft to share" in page
    assert "Preview — not public." in page
    assert "through a private preview link" in page
    assert "Only its authors and editors" not in page


def test_a_shared_link_is_never_indexed_nor_cached(draft):
    url = sharing.share(post=draft)

    response = Client().get(url)

    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert '<meta name="robots" content="noindex' in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert getattr(response, "cache_tags", None) is None
    assert "Cache-Tag" not in response
    # Nothing landed in the page store: a second request renders again.
    again = Client().get(url)
    assert again["Cache-Control"] == "private, no-store"
    assert "X-Page-Cache" not in again


def test_the_draft_url_itself_stays_a_404_for_anonymous_readers(draft):
    sharing.share(post=draft)
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_a_shared_link_expires_after_the_max_age(draft, settings):
    settings.PREVIEW_LINK_MAX_AGE = 3600
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        url = sharing.share(post=draft)
        traveller.shift(timedelta(minutes=59))
        assert Client().get(url).status_code == 200
        traveller.shift(timedelta(minutes=2))
        assert Client().get(url).status_code == 404


def test_the_default_max_age_is_seven_days(draft):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        url = sharing.share(post=draft)
        traveller.shift(timedelta(days=6, hours=23))
        assert Client().get(url).status_code == 200
        traveller.shift(timedelta(hours=2))
        assert Client().get(url).status_code == 404


def test_a_tampered_link_is_a_404(draft):
    other = PostFactory(draft=True)
    url = sharing.share(post=draft)
    signed = url.split("/")[2]
    value, stamp, signature = signed.rsplit(":", 2)
    forged = sharing.share(post=other).split("/")[2].rsplit(":", 2)[0]

    assert Client().get(f"/preview/{forged}:{stamp}:{signature}/").status_code == 404
    assert Client().get(f"/preview/{value}:{stamp}:{signature[:-2]}xx/").status_code == 404
    assert Client().get("/preview/garbage/").status_code == 404


def test_revoking_kills_every_link_and_a_new_share_makes_a_new_token(draft):
    first = sharing.share(post=draft)
    second = sharing.share(post=draft)
    assert Client().get(second).status_code == 200

    assert sharing.revoke(post=draft) is True

    assert Client().get(first).status_code == 404
    assert Client().get(second).status_code == 404
    fresh = sharing.share(post=draft)
    assert Client().get(fresh).status_code == 200
    assert Client().get(first).status_code == 404


def test_a_link_to_a_post_that_went_public_redirects_to_the_post(draft):
    url = sharing.share(post=draft)
    draft.status, draft.published_at = "published", timezone.now() - timedelta(minutes=1)
    draft.save()

    response = Client().get(url)

    assert response.status_code == 302
    assert response["Location"] == draft.get_absolute_url()


def test_the_change_form_shares_and_revokes_links():
    client, user = login("Authors")
    post = PostFactory(draft=True, authors=[user.author_profile])

    shared = client.post(f"/admin/posts/post/{post.pk}/share/", follow=True)
    page = shared.content.decode()
    assert "Preview link (works without login for 7 days" in page
    assert PreviewLink.objects.filter(post=post).exists()
    link = page.split("/preview/", 1)[1].split("/", 1)[0]
    assert Client().get(f"/preview/{link}/").status_code == 200
    assert "Revoke shared links" in client.get(change_url(post)).content.decode()

    client.post(f"/admin/posts/post/{post.pk}/share/revoke/")

    assert not PreviewLink.objects.filter(post=post).exists()
    assert Client().get(f"/preview/{link}/").status_code == 404


def test_only_people_who_may_edit_the_post_can_share_it():
    client, _ = login("Authors")
    post = PostFactory(draft=True)

    response = client.post(f"/admin/posts/post/{post.pk}/share/")

    assert response.status_code == 404
    assert not PreviewLink.objects.filter(post=post).exists()


def test_sharing_needs_a_post_request():
    client, user = login("Authors")
    post = PostFactory(draft=True, authors=[user.author_profile])

    assert client.get(f"/admin/posts/post/{post.pk}/share/").status_code == 405
