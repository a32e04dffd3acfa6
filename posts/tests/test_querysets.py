import threading
from datetime import datetime, timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from posts import services
from posts.models import Post
from posts.querysets import PreparedQuery
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_public_includes_published_posts_in_the_past():
    post = PostFactory()
    assert list(Post.objects.public()) == [post]


def test_public_excludes_drafts():
    PostFactory(draft=True)
    assert not Post.objects.public().exists()


def test_public_excludes_scheduled_posts():
    scheduled = PostFactory(scheduled=True)
    assert not Post.objects.public().exists()
    assert list(Post.objects.scheduled()) == [scheduled]


def test_scheduled_post_becomes_public_when_its_time_passes(time_machine):
    post = PostFactory(published_at=timezone.now() + timedelta(minutes=5))
    time_machine.move_to(timezone.now() + timedelta(minutes=6))
    assert list(Post.objects.public()) == [post]


def test_latest_first_orders_by_publication_then_id():
    now = timezone.now() - timedelta(hours=1)
    older = PostFactory(published_at=now - timedelta(days=1))
    a = PostFactory(published_at=now)
    b = PostFactory(published_at=now)
    assert list(Post.objects.public().latest_first()) == [b, a, older]


def test_for_tag_and_for_author_filter_through_rows():
    tag, author = TagFactory(), AuthorFactory()
    tagged = PostFactory(tags=[tag], authors=[author])
    PostFactory()
    assert list(Post.objects.public().for_tag(tag)) == [tagged]
    assert list(Post.objects.public().for_author(author)) == [tagged]


def test_with_card_data_orders_byline_and_tags_by_position(django_assert_num_queries):
    a1, a2, a3 = AuthorFactory(), AuthorFactory(), AuthorFactory()
    t1, t2 = TagFactory(), TagFactory()
    PostFactory(authors=[a3, a1, a2], tags=[t2, t1])
    with django_assert_num_queries(3):
        post = Post.objects.public().with_card_data().get()
        assert [a.author for a in post.authorships.all()] == [a3, a1, a2]
        assert [t.tag for t in post.post_tags.all()] == [t2, t1]


def test_card_data_rows_read_like_the_orms_and_stay_each_posts_own(django_assert_num_queries):
    ada, bo = AuthorFactory(display_name="Ada Lovelace"), AuthorFactory()
    primary, other = TagFactory(name="Python"), TagFactory()
    first = PostFactory(authors=[(ada, "author"), (bo, "editor")], tags=[other, primary])
    services.post_set_tags(post=first, tags=[other, primary], primary=primary)
    second = PostFactory(authors=[bo], tags=[other])
    untagged = PostFactory(authors=[ada], tags=[])
    with django_assert_num_queries(3):
        cards = {p.pk: p for p in Post.objects.with_card_data()}
        byline = cards[first.pk].authorships.all()
        assert [(a.author.display_name, a.role, a.get_role_display()) for a in byline] == [
            ("Ada Lovelace", "author", "Author"),
            (bo.display_name, "editor", "Editor"),
        ]
        assert [(t.tag.name, t.is_primary) for t in cards[first.pk].post_tags.all()] == [
            (other.name, False),
            ("Python", True),
        ]
        assert [t.tag for t in cards[second.pk].post_tags.all()] == [other]
        assert [a.author for a in cards[untagged.pk].authorships.all()] == [ada]
        assert list(cards[untagged.pk].post_tags.all()) == []
        assert byline[0].author.get_absolute_url() == ada.get_absolute_url()
    # Narrowing a post's loaded rows queries that post's rows only.
    assert [t.tag for t in cards[second.pk].post_tags.all().filter(position__gte=0)] == [other]


def test_prepared_query_binds_each_calls_values_into_sql_compiled_once():
    built = []

    def build(*, pk, now):
        built.append(pk)
        return Post.objects.public(now).filter(pk__gte=pk).order_by("pk").only("pk", "title")

    query = PreparedQuery(build, pk=int, now=datetime)
    old = PostFactory(published_at=timezone.now() - timedelta(days=3))
    new = PostFactory(published_at=timezone.now() - timedelta(hours=1))
    PostFactory(draft=True)
    assert list(query.raw(pk=old.pk, now=timezone.now())) == [old, new]
    assert list(query.raw(pk=new.pk, now=timezone.now())) == [new]
    assert list(query.raw(pk=old.pk, now=timezone.now() - timedelta(days=1))) == [old]
    assert len(built) == 1  # compiled once, with marker values


def test_prepared_query_instances_are_what_the_queryset_gives_in_one_query(
    django_assert_num_queries,
):
    built = []

    def build(*, slug):
        built.append(slug)
        return Post.objects.defer("body").select_related("series").filter(slug=slug)[:1]

    query = PreparedQuery(build, slug=str)
    series = SeriesFactory()
    first = PostFactory(slug="first-post", series=series, series_order=1)
    PostFactory(slug="second-post")
    with django_assert_num_queries(1):
        [found] = query.instances(slug="first-post")
        assert found.series == series  # loaded with the row, as select_related does
    assert found == first and found.get_deferred_fields() == {"body"}
    assert [p.slug for p in query.instances(slug="second-post")] == ["second-post"]
    assert query.instances(slug="no-such-post") == []
    assert len(built) == 1


@pytest.mark.django_db(transaction=True)
def test_prepared_query_instances_use_the_calling_threads_connection():
    # Compiled first in another thread (a live server's), then used in this one:
    # the rows come from this thread's connection.
    query = PreparedQuery(lambda *, slug: Post.objects.filter(slug=slug)[:1], slug=str)

    def compile_elsewhere():
        try:
            query.instances(slug="not-yet")
        finally:
            connections.close_all()

    thread = threading.Thread(target=compile_elsewhere)
    thread.start()
    thread.join()
    with transaction.atomic():
        post = PostFactory(slug="made-here")
        assert query.instances(slug="made-here") == [post]


def test_prepared_query_refuses_a_parameter_its_sql_does_not_bind():
    query = PreparedQuery(lambda *, pk: Post.objects.all(), pk=int)
    with pytest.raises(ValueError, match="not found in its SQL: \\['pk'\\]"):
        query.raw(pk=1)
    with pytest.raises(TypeError, match="Expected values for \\['pk'\\]"):
        query.raw(pk=1, other=2)
