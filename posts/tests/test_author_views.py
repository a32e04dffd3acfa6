from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from core.cache import tags as cache_tags
from posts import services
from posts.models import Post
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def test_author_index_lists_authors_with_public_posts_and_their_counts(client):
    ada = AuthorFactory(display_name="Ada Lindqvist", tagline="Databases and indexes.")
    kofi = AuthorFactory(
        display_name="Kofi Mensah", avatar="avatars/k.png", avatar_alt="Kofi smiling"
    )
    AuthorFactory(display_name="Only Drafts")
    PostFactory(authors=[ada, kofi])
    PostFactory(authors=[ada])
    PostFactory(authors=[kofi], draft=True)
    response = client.get("/authors/")
    body = html(response)
    assert body.index("Ada Lindqvist") < body.index("Kofi Mensah")
    assert "Databases and indexes." in body
    assert "2 posts" in body and "1 post<" in body
    assert 'src="/media/avatars/k.png" alt="Kofi smiling"' in body
    assert "Only Drafts" not in body
    assert body.count("<h1") == 1
    assert response.cache_tags == {cache_tags.POSTS, cache_tags.AUTHORS}


def test_author_page_shows_profile_bio_links_feed_and_public_posts(client, settings):
    author = AuthorFactory(
        handle="mei",
        display_name="Mei Tanaka",
        tagline="Front-end and calm CSS.",
        bio="Writes about **accessibility**.",
        github="mei-t",
        avatar="avatars/mei.png",
        avatar_alt="Mei at a conference",
    )
    mine = PostFactory(title="Focus rings done right", authors=[AuthorFactory(), author])
    PostFactory(title="Someone else's post")
    PostFactory(title="My unfinished draft", authors=[author], draft=True)
    response = client.get("/authors/mei/")
    body = html(response)
    assert '<h1 class="profile__name">Mei Tanaka</h1>' in body
    assert "@mei" in body
    assert "Front-end and calm CSS." in body
    assert "<strong>accessibility</strong>" in body
    assert 'href="https://github.com/mei-t"' in body
    assert 'href="/authors/mei/feed/"' in body
    assert 'rel="alternate" type="application/rss+xml"' in body
    assert 'alt="Mei at a conference"' in body
    assert f'<meta property="og:image" content="{settings.SITE_URL}/media/avatars/mei.png">' in body
    assert '<meta name="description" content="Front-end and calm CSS.">' in body
    assert "Focus rings done right" in body
    # Unescaped: the engines spell an apostrophe differently (&#x27; / &#39;).
    assert "Someone else's post" not in unescape(body) and "My unfinished draft" not in body
    expected = {cache_tags.POSTS, cache_tags.author(author.pk)} | cache_tags.for_posts(
        Post.objects.with_card_data().filter(pk=mine.pk)
    )
    assert response.cache_tags == expected


def test_author_page_paginates_their_posts(client):
    author = AuthorFactory(handle="prolific")
    now = timezone.now()
    for n in range(11):
        PostFactory(
            title=f"Essay {n:02d}", authors=[author], published_at=now - timedelta(hours=n + 1)
        )
    first = html(client.get("/authors/prolific/"))
    assert "Essay 09" in first and "Essay 10" not in first
    assert "Essay 10" in html(client.get("/authors/prolific/?page=2"))
    response = client.get("/authors/prolific/?page=3")
    assert response.status_code == 404
    assert "<h1>Page not found</h1>" in html(response)  # the site's 404 page


def test_old_author_handle_redirects_to_the_current_page(client):
    author = AuthorFactory(handle="old-handle")
    author.handle = "new-handle"
    services.author_save(author=author)
    response = client.get("/authors/old-handle/?page=1")
    assert response.status_code == 301
    assert response["Location"] == "/authors/new-handle/?page=1"


def test_unknown_author_is_404(client):
    response = client.get("/authors/nobody/")
    assert response.status_code == 404
    assert "Page not found" in html(response)


@pytest.mark.parametrize(("n_tags", "n_authors"), [(1, 1), (20, 5)])
@pytest.mark.parametrize(("url", "queries"), [("/authors/", 2), ("/authors/first/", 4)])
def test_author_pages_run_a_fixed_number_of_queries(
    client, settings, django_assert_num_queries, n_tags, n_authors, url, queries
):
    settings.PAGE_CACHE_ENABLED = False
    authors = [AuthorFactory(handle="first")] + [AuthorFactory() for _ in range(n_authors - 1)]
    tags = [TagFactory() for _ in range(n_tags)]
    for _ in range(3):
        PostFactory(authors=authors, tags=tags)
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200
