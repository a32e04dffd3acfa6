"""posts.services: each write refreshes its derived data once, for the rows it changed."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from posts import search, services
from posts.models import Authorship, Post, PostTag, SlugHistory, Tag
from posts.tests.admin_client import form_data, login
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db


def byline(post: Post) -> list[tuple[str, str]]:
    return [(a.author.handle, a.role) for a in post.authorships.select_related("author")]


def tag_rows(post: Post) -> list[tuple[str, int, bool]]:
    return [(r.tag.slug, r.position, r.is_primary) for r in post.post_tags.select_related("tag")]


def post_statements(queries) -> list[str]:
    return [q["sql"] for q in queries if "posts_post" in q["sql"] and "UPDATE" in q["sql"]]


def test_create_writes_byline_and_tags_in_order_with_one_primary():
    ada, bob = AuthorFactory(handle="ada"), AuthorFactory(handle="bob")
    one, two = TagFactory(slug="one"), TagFactory(slug="two")
    post = services.post_create(
        title="Hello", authors=[(bob, "editor"), ada], tags=[one, two], primary_tag=two
    )
    assert post.slug == "hello" and post.version == 1
    assert byline(post) == [("bob", "editor"), ("ada", "author")]
    assert tag_rows(post) == [("one", 0, False), ("two", 1, True)]


def test_setting_tags_reorders_and_moves_the_primary_flag():
    a, b, c = (TagFactory(slug=s) for s in "abc")
    post = PostFactory(tags=[a, b])
    services.post_set_tags(post=post, tags=[c, b, a])
    assert tag_rows(post) == [("c", 0, True), ("b", 1, False), ("a", 2, False)]
    services.post_set_tags(post=post, tags=[b], primary=b)
    assert tag_rows(post) == [("b", 1, True)]  # rows keep their numbers where order allows


def test_setting_the_same_byline_again_writes_nothing():
    post = PostFactory(authors=[AuthorFactory(), AuthorFactory()])
    with CaptureQueriesContext(connection) as queries:
        services.post_set_byline(post=post, authors=[a.author for a in post.authorships.all()])
    assert not [q for q in queries if q["sql"].startswith(("INSERT", "UPDATE", "DELETE"))]


def test_a_slug_change_keeps_the_old_slug_and_a_new_post_can_claim_it():
    post = PostFactory(slug="first")
    services.post_update(post=post, slug="second")
    assert SlugHistory.objects.get(kind="post", old_slug="first").object_id == post.pk
    PostFactory(slug="first")
    assert not SlugHistory.objects.filter(kind="post", old_slug="first").exists()


def test_a_stale_version_is_refused_and_nothing_is_written():
    post = PostFactory(title="Original")
    loaded = post.version
    services.post_update(post=Post.objects.get(pk=post.pk), title="Theirs")
    mine = Post.objects.get(pk=post.pk)
    mine.title = "Mine"
    with pytest.raises(services.StaleEdit) as refused:
        services.post_save(post=mine, expected_version=loaded)
    assert refused.value.current.title == "Theirs"
    assert Post.objects.get(pk=post.pk).title == "Theirs"
    assert Post.objects.get(pk=post.pk).version == loaded + 1


def test_publish_schedule_and_unpublish():
    post = PostFactory(draft=True)
    services.post_schedule(post=post, at=timezone.now() + timedelta(hours=3))
    assert post.is_scheduled and not post.is_public
    services.post_publish(post=post)
    assert post.is_public
    services.post_unpublish(post=post)
    assert post.status == Post.Status.DRAFT and post.published_at is not None
    with pytest.raises(ValueError, match="future"):
        services.post_schedule(post=post, at=timezone.now() - timedelta(minutes=1))


def test_duplicate_is_a_draft_with_the_same_text_byline_and_tags():
    ada = AuthorFactory(handle="ada")
    post = PostFactory(
        title="Original", slug="original", authors=[ada], tags=[TagFactory(slug="x")]
    )
    copy = services.post_duplicate(post=post)
    assert copy.pk != post.pk and copy.slug == "original-copy"
    assert (copy.status, copy.published_at) == (Post.Status.DRAFT, None)
    assert copy.body == post.body and byline(copy) == byline(post)
    assert tag_rows(copy) == tag_rows(post)


def test_tag_names_are_matched_whatever_their_case_and_spacing():
    python = services.tag_get_or_create(name="Python")
    assert services.tag_get_or_create(name="  python ") == python
    assert services.tag_get_or_create(name="PYTHON") == python
    assert Tag.objects.count() == 1
    assert services.tag_get_or_create(name="Machine   learning").name == "Machine learning"


def test_unique_slugs_get_a_number():
    PostFactory(slug="hello")
    PostFactory(slug="hello-2")
    assert services.unique_slug(Post, "Hello!") == "hello-3"
    assert services.unique_slug(Post, "   ") == "untitled"


def test_bulk_create_fills_through_rows_counts_and_claims_slugs():
    tag, author = TagFactory(), AuthorFactory()
    SlugHistory.objects.create(kind="post", old_slug="bulk-1", object_id=999)
    items = [
        services.NewPost(post=Post(title=f"Bulk {n}", slug=f"bulk-{n}", body="**x**",
                                   status="published"), authors=[author], tags=[tag])
        for n in range(3)
    ]  # fmt: skip
    posts = services.posts_bulk_create(items=items)
    assert all(p.body_html == "<p><strong>x</strong></p>\n" for p in posts)
    tag.refresh_from_db()
    author.refresh_from_db()
    assert (tag.published_post_count, author.published_post_count) == (3, 3)
    assert not SlugHistory.objects.filter(old_slug="bulk-1").exists()


def test_saving_a_tag_description_rebuilds_no_search_vector():
    tag = TagFactory()
    PostFactory(tags=[tag])
    with CaptureQueriesContext(connection) as queries:
        services.tag_update(tag=tag, description="New words")
    assert post_statements(queries) == []


def renaming_statements(n_posts: int) -> int:
    tag = TagFactory()
    services.posts_bulk_create(
        items=[
            services.NewPost(post=Post(title="t", slug=f"p{n_posts}-{n}", body="b"), tags=[tag])
            for n in range(n_posts)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        services.tag_update(tag=tag, name=f"Renamed {n_posts}")
    return len(queries)


def test_renaming_a_tag_runs_the_same_statements_for_1000_posts_as_for_1():
    assert renaming_statements(1) == renaming_statements(1000)


def test_renaming_a_tag_reindexes_its_posts_in_one_statement():
    tag = TagFactory(name="Okapi")
    posts = [PostFactory(body="plain", tags=[tag]) for _ in range(3)]
    with CaptureQueriesContext(connection) as queries:
        services.tag_update(tag=tag, name="Narwhal")
    # Stored vectors exist on PostgreSQL only; SQLite searches tag names directly.
    assert len(post_statements(queries)) == (1 if search.is_postgres() else 0)
    assert set(search.search_posts("narwhal")) == set(posts)
    assert list(search.search_posts("okapi")) == []


# --- The admin goes through the services ------------------------------------------------


def admin_save_queries(others_sharing: int) -> int:
    tags = [TagFactory() for _ in range(5)]
    authors = [AuthorFactory() for _ in range(3)]
    post = PostFactory(tags=tags, authors=authors)
    for _ in range(others_sharing):
        PostFactory(tags=tags, authors=authors)
    client, _ = login("Editors")
    data = form_data(post, title="Edited in the admin", **{"post_tags-0-position": 9})
    ContentType.objects.clear_cache()  # the admin log's lookup, cached after a process's first
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/admin/posts/post/{post.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Post.objects.get(pk=post.pk).title == "Edited in the admin"
    assert [r.tag_id for r in PostTag.objects.filter(post=post)][-1] == tags[0].pk
    return len(queries)


def test_an_admin_save_runs_a_fixed_number_of_queries_whatever_shares_its_tags():
    alone = admin_save_queries(0)
    shared = admin_save_queries(20)
    assert alone == shared
    assert alone <= 70  # at the time of writing 68: 24 of them are the inline forms' own checks


def admin_create_queries() -> tuple[int, int]:
    """(queries, search-vector statements) to add a post with 5 tags and 3 authors."""
    tags = [TagFactory() for _ in range(5)]
    authors = [AuthorFactory() for _ in range(3)]
    data = form_data(
        title="Brand new",
        slug="brand-new",
        status="published",
        summary="A new post.",
        published_at_0="2026-01-02",
        published_at_1="10:00:00",
    )
    byline_rows = [{"author": a.pk, "position": n, "role": "author"} for n, a in enumerate(authors)]
    tag_rows_ = [{"tag": t.pk, "position": n} for n, t in enumerate(tags)]
    for prefix, rows in (("authorships", byline_rows), ("post_tags", tag_rows_)):
        data[f"{prefix}-TOTAL_FORMS"], data[f"{prefix}-INITIAL_FORMS"] = len(rows), 0
        for n, row in enumerate(rows):
            data.update({f"{prefix}-{n}-{k}": v for k, v in row.items()})
    data["post_tags-0-is_primary"] = "on"
    client, _ = login("Editors")
    ContentType.objects.clear_cache()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/admin/posts/post/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    post = Post.objects.get(slug="brand-new")
    assert len(tag_rows(post)) == 5 and len(byline(post)) == 3
    assert all(Tag.objects.get(pk=t.pk).published_post_count == 1 for t in tags)
    vectors = [q for q in queries if "SET search_vector" in q["sql"]]
    return len(queries), len(vectors)


def test_adding_a_post_with_5_tags_and_3_authors_rebuilds_its_search_vector_once():
    total, vectors = admin_create_queries()
    assert vectors == (1 if search.is_postgres() else 0)
    assert total <= 70  # at the time of writing (73, with 6 vector rebuilds, before services)


def test_an_author_edits_the_byline_in_the_admin_inline():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    me, coauthor = AuthorFactory(user=user, handle="me"), AuthorFactory(handle="co")
    post = PostFactory(authors=[me])
    client = Client()
    client.force_login(user)
    data = form_data(
        post,
        **{
            "authorships-TOTAL_FORMS": 2,
            "authorships-1-post": post.pk,
            "authorships-1-author": coauthor.pk,
            "authorships-1-position": 0,
            "authorships-1-role": "co-author",
            "authorships-0-position": 1,
        },
    )
    response = client.post(f"/admin/posts/post/{post.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert byline(post) == [("co", "co-author"), ("me", "author")]
    coauthor.refresh_from_db()
    assert coauthor.published_post_count == 1


def test_an_author_cannot_drop_themselves_from_their_own_byline():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Authors"))
    me = AuthorFactory(user=user, handle="me")
    post = PostFactory(authors=[me])
    client = Client()
    client.force_login(user)
    response = client.post(
        f"/admin/posts/post/{post.pk}/change/",
        form_data(post, **{"authorships-0-DELETE": "on"}),
    )
    assert response.status_code == 302
    assert byline(post) == [("me", "author")]
    assert Authorship.objects.filter(post=post).count() == 1


def test_moving_a_post_between_series_through_the_service():
    first, second = SeriesFactory(), SeriesFactory()
    post = PostFactory(series=first, series_order=1)
    services.post_update(post=post, series=second, series_order=2)
    assert list(second.posts.all()) == [post] and not first.posts.exists()


def test_merging_keeps_the_primary_flag_on_posts_that_had_both_tags():
    source, into = TagFactory(slug="js"), TagFactory(slug="javascript")
    both = PostFactory(tags=[source, into])  # source is primary
    only_source = PostFactory(tags=[source])
    services.tag_merge(source=source, into=into)
    assert tag_rows(both) == [("javascript", 1, True)]
    assert tag_rows(only_source) == [("javascript", 0, True)]
    assert Tag.objects.get(pk=into.pk).published_post_count == 2
    assert SlugHistory.objects.get(kind="tag", old_slug="js").object_id == into.pk


def test_saving_a_post_without_text_changes_keeps_its_search_vector():
    post = PostFactory(title="Okapi sightings", body="plain")
    services.post_update(post=Post.objects.defer("search_vector").get(pk=post.pk), status="draft")
    services.post_publish(post=post)  # an instance that never loaded the vector
    post.save()  # a raw save, outside the services, too
    assert list(search.search_posts("okapi")) == [post]
