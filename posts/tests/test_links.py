from django.urls import reverse, set_script_prefix

from core.links import slug_path


def test_slug_path_matches_reverse():
    for name, kwarg, value in (
        ("posts:post_detail", "slug", "hello-world"),
        ("posts:tag_detail", "slug", "django"),
        ("posts:series_detail", "slug", "a_b-1"),
        ("posts:author_detail", "handle", "ada"),
    ):
        assert slug_path(name, kwarg, value) == reverse(name, kwargs={kwarg: value})


def test_slug_path_follows_the_script_prefix():
    set_script_prefix("/blog/")
    try:
        assert slug_path("posts:post_detail", "slug", "x") == "/blog/posts/x/"
    finally:
        set_script_prefix("/")
    assert slug_path("posts:post_detail", "slug", "x") == "/posts/x/"
