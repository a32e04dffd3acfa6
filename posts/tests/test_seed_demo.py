import re

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from accounts.models import AuthorProfile
from posts.management.commands import seed_demo
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


def test_seed_demo_bulk_path_scales_authors_and_tags(monkeypatch):
    # Drawing 60 covers is not what this test is about: share two.
    monkeypatch.setattr(seed_demo, "DISTINCT_COVERS_UP_TO", 0)
    monkeypatch.setattr(seed_demo, "COVER_POOL", 2)
    call_command("seed_demo", posts=60, authors=60, tags=120)
    assert AuthorProfile.objects.count() == 60
    assert Tag.objects.count() == 120
    assert PostTag.objects.filter(post__slug="demo-0").count() == 5
    assert not AuthorProfile.objects.filter(avatar="").exists()  # bulk authors too


def test_seed_demo_rejects_nonsense_counts():
    with pytest.raises(CommandError, match="--posts"):
        call_command("seed_demo", posts=-1)
    assert Post.objects.count() == 0


def test_every_post_gets_its_own_cover_with_alt_text_naming_its_tag(media_root):
    call_command("seed_demo", posts=6)
    posts = list(Post.objects.prefetch_related("post_tags__tag"))
    assert len({p.cover_image.name for p in posts}) == 6
    for post in posts:
        primary = next(pt.tag.name for pt in post.post_tags.all() if pt.is_primary)
        assert re.fullmatch(
            f"Abstract cover for “{re.escape(post.title)}”: [a-z]+ and [a-z]+ shapes "
            f"with the word {re.escape(primary)}",
            post.cover_alt,
        )
        with Image.open(media_root / post.cover_image.name) as im:
            assert im.size == (1440, 756)
        prefix = post.cover_renditions["prefix"]
        for width in (480, 960, 1440):
            assert (media_root / f"{prefix}-{width}.webp").exists()


def test_every_author_gets_an_initials_avatar_with_alt_text(media_root):
    call_command("seed_demo", posts=3)
    ada = AuthorProfile.objects.get(handle="ada")
    assert re.fullmatch(
        "Portrait placeholder for Ada Lindqvist: initials AL on [a-z]+", ada.avatar_alt
    )
    assert ada.avatar_renditions["widths"] == [96, 192, 384]
    assert AuthorProfile.objects.filter(avatar="").count() == 0
    assert (media_root / ada.avatar.name).exists()


def test_the_home_page_shows_the_seeded_covers_in_srcset(client, media_root):
    call_command("seed_demo", posts=4)
    html = client.get("/").content.decode()
    assert html.count('class="card__cover"') == 3  # the fourth is a draft
    assert html.count('<source type="image/webp" srcset="/media/renditions/') >= 3


def test_large_runs_share_a_pool_of_covers(media_root, monkeypatch):
    monkeypatch.setattr(seed_demo, "DISTINCT_COVERS_UP_TO", 5)
    monkeypatch.setattr(seed_demo, "COVER_POOL", 3)
    call_command("seed_demo", posts=8)
    assert Post.objects.values("cover_image").distinct().count() == 3
    # The alt text still names each post and what its (shared) picture shows.
    alts = set(Post.objects.values_list("cover_alt", flat=True))
    assert len(alts) == 8
