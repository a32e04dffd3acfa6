import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuthorProfile
from posts.models import Authorship, Post, PostTag, Series, Tag

pytestmark = pytest.mark.django_db


def counts():
    return tuple(m.objects.count() for m in (AuthorProfile, Tag, Series, Post, Authorship, PostTag))


def test_seed_demo_creates_realistic_content():
    call_command("seed_demo", posts=12)
    assert Post.objects.count() == 12
    assert Post.objects.public().count() == 11  # the last one is a draft
    post = Post.objects.public().latest_first().first()
    assert '<pre tabindex="0" class="highlight">' in post.body_html
    assert "<table>" in post.body_html
    assert post.authorships.exists() and post.post_tags.filter(is_primary=True).count() == 1
    author = AuthorProfile.objects.get(handle="ada")
    assert author.tagline and author.bio_html and author.user.username == "ada"
    assert Series.objects.get(slug="django-caching-in-depth").posts.count() == 4


def test_seed_demo_is_idempotent():
    call_command("seed_demo", posts=10)
    first = counts()
    call_command("seed_demo", posts=10)
    assert counts() == first


def test_seed_demo_tops_up_to_a_larger_count():
    call_command("seed_demo", posts=5)
    call_command("seed_demo", posts=8)
    assert Post.objects.filter(slug__startswith="demo-").count() == 8


def test_seed_demo_if_empty_leaves_an_existing_site_alone():
    call_command("seed_demo", posts=3)
    call_command("seed_demo", posts=20, if_empty=True)
    assert Post.objects.count() == 3


def test_seed_demo_bulk_path_scales_authors_and_tags():
    call_command("seed_demo", posts=60, authors=60, tags=120)
    assert AuthorProfile.objects.count() == 60
    assert Tag.objects.count() == 120
    assert PostTag.objects.filter(post__slug="demo-0").count() == 5


def test_seed_demo_rejects_nonsense_counts():
    with pytest.raises(CommandError, match="--posts"):
        call_command("seed_demo", posts=-1)
    assert Post.objects.count() == 0
