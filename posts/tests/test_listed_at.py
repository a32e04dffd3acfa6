"""listed_at on tag and byline rows follows their post, whatever writes (migration 0012)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from posts import selectors, services
from posts.models import Authorship, Post, PostTag
from posts.tests.factories import AuthorFactory, PostFactory, PostTagFactory, TagFactory

pytestmark = pytest.mark.django_db


def listed(post: Post) -> set:
    """The listing times on the post's tag and byline rows (one value when they agree)."""
    return {
        *PostTag.objects.filter(post=post).values_list("listed_at", flat=True),
        *Authorship.objects.filter(post=post).values_list("listed_at", flat=True),
    }


def test_a_published_posts_tag_rows_carry_its_publication_time():
    post = PostFactory(tags=[TagFactory(), TagFactory()], authors=[AuthorFactory()])
    assert listed(post) == {post.published_at}


def test_drafts_have_no_listing_time_and_publishing_gives_one():
    post = PostFactory(draft=True, tags=[TagFactory()], authors=[AuthorFactory()])
    assert listed(post) == {None}
    at = timezone.now() - timedelta(minutes=5)
    services.post_publish(post=post, at=at)
    assert listed(post) == {at}
    services.post_unpublish(post=post)
    assert listed(post) == {None}


def test_a_scheduled_post_is_listed_at_its_future_time():
    post = PostFactory(scheduled=True, tags=[TagFactory()])
    assert listed(post) == {post.published_at}
    assert post.published_at > timezone.now()


def test_writes_outside_the_services_keep_it_too():
    post = PostFactory(tags=[TagFactory()])
    # m2m add() bulk-inserts through rows; a queryset update sends no signals.
    post.tags.add(TagFactory())
    post.authors.add(AuthorFactory())
    assert listed(post) == {post.published_at}
    later = post.published_at + timedelta(hours=3)
    Post.objects.filter(pk=post.pk).update(published_at=later)
    assert listed(post) == {later}
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    assert listed(post) == {None}


def test_a_row_saved_with_a_wrong_value_gets_the_posts():
    post = PostFactory()
    row = PostTagFactory(post=post)
    row.listed_at = timezone.now() - timedelta(days=400)
    row.save()
    assert listed(post) == {post.published_at}


def test_the_tag_page_reads_the_index_not_every_post_of_the_tag():
    tag = TagFactory()
    for _ in range(3):
        PostFactory(tags=[tag])
    sql, params = selectors.posts_for_tag(tag)[:11].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: plan as at scale
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "posttag_tag_listed_idx" in plan
    assert "TEMP B-TREE" not in plan  # SQLite: no sort of the rows read
    assert [p.pk for p in selectors.posts_for_tag(tag)] == [
        p.pk for p in Post.objects.public().filter(post_tags__tag=tag).order_by("-published_at")
    ]


def test_the_author_page_reads_the_byline_index():
    ada = AuthorFactory()
    for days in (3, 1, 2):
        PostFactory(authors=[ada], published_at=timezone.now() - timedelta(days=days))
    PostFactory(authors=[ada], draft=True)
    sql, params = selectors.posts_for_author(ada)[:11].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "authorship_author_listed_idx" in plan
    assert [p.pk for p in selectors.posts_for_author(ada)] == [
        p.pk
        for p in Post.objects.public().filter(authorships__author=ada).order_by("-published_at")
    ]
