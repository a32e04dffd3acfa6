from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from posts import services
from posts.models import Authorship, Post, PostTag
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_second_primary_tag_is_rejected_by_the_database():
    post = PostFactory()
    PostTag.objects.create(post=post, tag=TagFactory(), position=0, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostTag.objects.create(post=post, tag=TagFactory(), position=1, is_primary=True)
    assert post.post_tags.filter(is_primary=True).count() == 1


def test_many_secondary_tags_are_allowed():
    post = PostFactory(tags=[TagFactory(), TagFactory(), TagFactory()])
    assert list(post.post_tags.values_list("is_primary", flat=True)) == [True, False, False]


def test_same_tag_twice_on_a_post_is_rejected():
    post, tag = PostFactory(), TagFactory()
    PostTag.objects.create(post=post, tag=tag)
    with pytest.raises(IntegrityError), transaction.atomic():
        PostTag.objects.create(post=post, tag=tag, position=1)


def test_same_author_twice_on_a_byline_is_rejected():
    post, author = PostFactory(), AuthorFactory()
    Authorship.objects.create(post=post, author=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        Authorship.objects.create(post=post, author=author, position=1)


def test_duplicate_slug_is_rejected_by_the_database():
    PostFactory(slug="same")
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.create(title="Again", slug="same")


def test_duplicate_source_guid_is_rejected_by_the_database():
    PostFactory(source_guid="https://dev.to/x/1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.create(title="Again", slug="again", source_guid="https://dev.to/x/1")


def test_blank_source_guids_do_not_collide():
    PostFactory(source_guid="")
    PostFactory(source_guid="")
    assert Post.objects.filter(source_guid__isnull=True).count() == 2


def test_cover_image_without_alt_text_is_rejected_by_the_database():
    post = PostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(cover_image="covers/x.png", cover_alt="")


def test_published_post_without_date_is_rejected_by_the_database():
    post = PostFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Post.objects.filter(pk=post.pk).update(published_at=None)


def test_saving_renders_body_and_reading_time():
    post = PostFactory(body="# Title\n\n" + "word " * 460)
    assert post.body_html.startswith("<h2>Title</h2>")
    assert post.reading_minutes == 3  # 461 words at 230 a minute


def test_publishing_without_a_date_stamps_now():
    post = PostFactory(status=Post.Status.PUBLISHED, published_at=None)
    assert timezone.now() - post.published_at < timedelta(seconds=5)


def test_renaming_a_slug_keeps_the_old_one_in_history():
    post = PostFactory(slug="old")
    services.post_update(post=post, slug="new")
    from posts.slugs import resolve_old_slug

    assert resolve_old_slug(kind="post", slug="old") == post.pk


def test_edits_keep_a_revision_history():
    post = PostFactory(title="First")
    post.title = "Second"
    post.save()
    assert [h.title for h in post.history.order_by("history_date")] == ["First", "Second"]
