from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuthorProfile
from posts import counts, selectors, services
from posts.models import Post, Tag
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def stored(obj) -> int:
    return type(obj).objects.get(pk=obj.pk).published_post_count


def public_counts() -> dict[str, int]:
    return {t.slug: t.public_post_count for t in selectors.tags_with_public_counts()}


def test_through_rows_keep_tag_and_author_counts_current():
    tag, author = TagFactory(), AuthorFactory()
    post = PostFactory(tags=[tag], authors=[author])
    assert stored(tag) == 1 and stored(author) == 1
    services.post_set_tags(post=post, tags=[])
    services.post_set_byline(post=post, authors=[])
    assert stored(tag) == 0 and stored(author) == 0


def test_unpublishing_and_republishing_recounts():
    tag, author = TagFactory(), AuthorFactory()
    post = PostFactory(tags=[tag], authors=[author])
    services.post_unpublish(post=Post.objects.get(pk=post.pk))
    assert stored(tag) == 0 and stored(author) == 0
    services.post_publish(post=Post.objects.get(pk=post.pk))
    assert stored(tag) == 1 and stored(author) == 1


def test_retagging_recounts_the_tags_that_came_and_went():
    old, new, kept = TagFactory(), TagFactory(), TagFactory()
    post = PostFactory(tags=[old, kept])
    services.post_set_tags(post=post, tags=[kept, new])
    assert (stored(old), stored(kept), stored(new)) == (0, 1, 1)


def test_drafts_are_not_counted():
    tag = TagFactory()
    PostFactory(tags=[tag], draft=True)
    assert stored(tag) == 0


def test_deleting_a_post_recounts_its_tags():
    tag = TagFactory()
    PostFactory(tags=[tag])
    services.post_delete(post=PostFactory(tags=[tag]))
    assert stored(tag) == 1


def test_readers_never_see_scheduled_posts_in_counts(time_machine):
    tag = TagFactory(slug="soon")
    live = TagFactory(slug="live")
    PostFactory(tags=[tag, live], published_at=timezone.now() + timedelta(hours=1))
    PostFactory(tags=[live])
    assert stored(tag) == 1  # scheduled posts are stored...
    assert public_counts() == {"live": 1}  # ...but not shown, nor their only tag
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    assert public_counts() == {"live": 2, "soon": 1}  # no write needed when it goes live


def test_author_index_counts_match_a_fresh_recount():
    authors = AuthorFactory.create_batch(3)
    for n in range(5):
        PostFactory(authors=authors[: n % 3 + 1])
    before = {a.pk: a.public_post_count for a in selectors.authors_with_public_posts()}
    AuthorProfile.objects.update(published_post_count=0)
    counts.refresh_author_counts()
    after = {a.pk: a.public_post_count for a in selectors.authors_with_public_posts()}
    assert before == after == {authors[0].pk: 5, authors[1].pk: 3, authors[2].pk: 1}


def test_seed_demo_fills_counts_for_bulk_inserts():
    from django.core.management import call_command

    call_command("seed_demo", posts=12)
    for tag in Tag.objects.all():
        assert tag.published_post_count == tag.tag_posts.filter(post__status="published").count()


def test_saving_a_stale_instance_keeps_the_stored_count():
    tag, author = TagFactory(), AuthorFactory()  # both held with a count of 0
    PostFactory(tags=[tag], authors=[author])
    tag.name = "Renamed"
    tag.save()
    author.display_name = "Renamed"
    author.save()
    assert stored(tag) == 1 and stored(author) == 1
