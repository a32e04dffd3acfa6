import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.views.defaults import server_error

from core.cache import tags as cache_tags
from posts import services
from posts.models import Post
from posts.tests.factories import AuthorFactory, PostFactory, SeriesFactory, TagFactory

pytestmark = pytest.mark.django_db

JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def html(response) -> str:
    return response.content.decode()


def titles_in_order(response, posts) -> list[str]:
    """The given posts' titles in the order the page shows them."""
    body = html(response)
    found = [(body.find(f">{p.title}</a>"), p.title) for p in posts]
    return [title for pos, title in sorted(found) if pos >= 0]


def assert_custom_404(response):
    assert response.status_code == 404
    # The site's own page (templates/404.html, Jinja2), not Django's bare default.
    assert "<h1>Page not found</h1>" in html(response)
    assert 'class="error-page__code" aria-hidden="true">404</p>' in html(response)


# --- Home ---------------------------------------------------------------------------------


def test_home_lists_public_posts_newest_first_ten_a_page(client):
    posts = [
        PostFactory(title=f"Post number {n}", published_at=ago(hours=n + 1)) for n in range(12)
    ]
    response = client.get("/")
    assert response.status_code == 200
    assert titles_in_order(response, posts) == [p.title for p in posts[:10]]
    assert 'href="?page=2"' in html(response)
    assert "Page 1" in html(response)


def test_home_second_page_links_back_and_shows_the_rest(client, settings):
    posts = [
        PostFactory(title=f"Post number {n}", published_at=ago(hours=n + 1)) for n in range(12)
    ]
    response = client.get("/?page=2")
    assert titles_in_order(response, posts) == [posts[10].title, posts[11].title]
    body = html(response)
    assert 'rel="prev" href="/"' in body and "Newer" in body
    assert 'rel="next"' not in body
    assert "Page 2" in body
    assert f'<link rel="canonical" href="{settings.SITE_URL}/?page=2">' in body


def test_home_never_shows_drafts_or_scheduled_posts(client):
    public = PostFactory(title="Out in the open")
    PostFactory(title="Still a draft", draft=True)
    PostFactory(title="Coming tomorrow", scheduled=True)
    body = html(client.get("/"))
    assert public.title in body
    assert "Still a draft" not in body
    assert "Coming tomorrow" not in body


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "2", "99", "\uff11"])
def test_home_bad_or_out_of_range_page_is_the_custom_404(client, page):
    PostFactory()
    assert_custom_404(client.get(f"/?page={page}"))


def test_home_empty_site_still_renders_page_one(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No posts yet." in html(response)


def test_home_card_shows_cover_authors_date_reading_time_tags_and_read_more(client):
    author = AuthorFactory(display_name="Grace Hopper", handle="grace")
    tag = TagFactory(name="Compilers", slug="compilers")
    post = PostFactory(
        title="Bugs in the machine",
        cover_image="covers/2026/moth.png",
        cover_alt="A moth taped into a logbook",
        authors=[author],
        tags=[tag],
    )
    body = html(client.get("/"))
    assert '<img class="card__cover" src="/media/covers/2026/moth.png"' in body
    assert 'alt="A moth taped into a logbook"' in body
    assert '<a href="/authors/grace/" rel="author">Grace Hopper</a>' in body
    assert 'href="/tags/compilers/"' in body
    # To the second: HTML allows at most three digits of fraction.
    assert f'<time datetime="{post.published_at.replace(microsecond=0).isoformat()}">' in body
    assert f"{post.reading_minutes} min read" in body
    assert f'class="card__more" href="{post.get_absolute_url()}"' in body
    assert body.count("<article") == 1


def test_listing_pages_never_count_all_posts(client, no_page_cache):
    for n in range(25):
        PostFactory(published_at=ago(hours=n + 1))
    with CaptureQueriesContext(connection) as ctx:
        client.get("/?page=2")
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]


def test_home_carries_cache_tags_for_every_card(client):
    author, tag = AuthorFactory(), TagFactory()
    series = SeriesFactory()
    post = PostFactory(authors=[author], tags=[tag], series=series, series_order=1)
    response = client.get("/")
    assert response.cache_tags == {
        cache_tags.POSTS,
        cache_tags.post(post.pk),
        cache_tags.author(author.pk),
        cache_tags.tag(tag.pk),
        cache_tags.series(series.pk),
    }
    assert "posts" in response["Cache-Tag"].split()


def test_every_page_has_head_meta_landmarks_and_feed_discovery(client):
    PostFactory()
    body = html(client.get("/"))
    for needle in (
        "<title>",
        '<meta name="description"',
        '<link rel="canonical"',
        '<meta property="og:title"',
        '<meta property="og:site_name"',
        '<meta name="twitter:card"',
        'type="application/rss+xml" title="blogsite (RSS)" href="/feed/"',
        'type="application/atom+xml" title="blogsite (Atom)" href="/feed/atom/"',
        'type="application/feed+json" title="blogsite (JSON Feed)" href="/feed.json"',
        '<a class="skip-link" href="#main">',
        '<header class="site-header">',
        '<main id="main"',
        "<footer",
        '<label for="site-search-q"',
        'href="#top">Back to top',
    ):
        assert needle in body, needle
    assert body.count("<h1") == 1
    assert "<script>" not in body  # the CSP forbids inline JS


# --- Post page -----------------------------------------------------------------------------


@pytest.fixture
def article():
    first = AuthorFactory(display_name="Ada Lovelace", handle="ada")
    second = AuthorFactory(display_name="Charles Babbage", handle="charles")
    tags = [TagFactory(name="Engines", slug="engines"), TagFactory(name="Math", slug="math")]
    return PostFactory(
        title="Notes on the <Analytical> Engine",
        summary="What the engine could do & why.",
        authors=[second, first],
        tags=tags,
        published_at=ago(days=3),
    )


def test_post_page_shows_title_summary_byline_in_order_and_tags_with_primary(client, article):
    response = client.get(article.get_absolute_url())
    body = html(response)
    assert body.count("<h1") == 1
    assert '<h1 class="post__title">Notes on the &lt;Analytical&gt; Engine</h1>' in body
    assert "What the engine could do &amp; why." in body
    byline = body[body.index('class="byline byline--full"') :]
    assert byline.index("Charles Babbage") < byline.index("Ada Lovelace")
    assert 'href="/authors/ada/" rel="author"' in body
    assert 'class="tag tag--primary" href="/tags/engines/"' in body
    assert "(primary tag)" in body
    assert article.body_html in body
    assert '<div class="table-scroll" tabindex="0">' in body
    assert 'class="highlight"' in body


def test_post_page_shows_updated_date_only_when_updated(client):
    post = PostFactory(published_at=ago(days=10))
    assert "Updated" in html(client.get(post.get_absolute_url()))
    fresh = PostFactory(published_at=ago(hours=2))
    assert "Updated" not in html(client.get(fresh.get_absolute_url()))


def test_post_page_json_ld_parses_with_headline_authors_and_keywords(client, article, settings):
    body = html(client.get(article.get_absolute_url()))
    [raw] = JSON_LD.findall(body)
    data = json.loads(raw)
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "Notes on the <Analytical> Engine"
    assert "<" not in raw  # escaped as \u003C inside the script element
    assert [a["name"] for a in data["author"]] == ["Charles Babbage", "Ada Lovelace"]
    assert data["author"][1]["url"] == f"{settings.SITE_URL}/authors/ada/"
    assert data["keywords"] == ["Engines", "Math"]
    assert data["datePublished"] == article.published_at.replace(microsecond=0).isoformat()
    assert data["mainEntityOfPage"]["@id"].endswith(article.get_absolute_url())


def test_post_page_json_ld_cannot_close_its_script_element(client):
    post = PostFactory(title="</script><script>alert(1)</script>")
    body = html(client.get(post.get_absolute_url()))
    [raw] = JSON_LD.findall(body)
    assert json.loads(raw)["headline"] == "</script><script>alert(1)</script>"
    assert "<script>alert" not in body


def test_post_canonical_is_its_own_canonical_url_when_set(client, settings):
    post = PostFactory(canonical_url="https://elsewhere.example/original/")
    other = PostFactory()
    assert '<link rel="canonical" href="https://elsewhere.example/original/">' in html(
        client.get(post.get_absolute_url())
    )
    assert f'<link rel="canonical" href="{settings.SITE_URL}{other.get_absolute_url()}">' in html(
        client.get(other.get_absolute_url())
    )


def test_post_page_has_open_graph_article_and_image_tags(client, settings):
    post = PostFactory(cover_image="covers/x.png", cover_alt="A lighthouse at dusk")
    body = html(client.get(post.get_absolute_url()))
    assert '<meta property="og:type" content="article">' in body
    assert f'<meta property="og:image" content="{settings.SITE_URL}/media/covers/x.png">' in body
    assert '<meta name="twitter:card" content="summary_large_image">' in body
    assert 'alt="A lighthouse at dusk"' in body


def test_post_page_series_nav_lists_the_series_in_order_with_current_marked(client):
    series = SeriesFactory(title="Caching in depth")
    third = PostFactory(title="Part three", series=series, series_order=3, published_at=ago(days=1))
    first = PostFactory(title="Part one", series=series, series_order=1, published_at=ago(days=3))
    second = PostFactory(title="Part two", series=series, series_order=2, published_at=ago(days=2))
    PostFactory(title="Part four draft", series=series, series_order=4, draft=True)
    body = html(client.get(second.get_absolute_url()))
    nav = body[body.index('class="series-nav"') : body.index("</nav>", body.index("series-nav"))]
    assert nav.index("Part one") < nav.index("Part two") < nav.index("Part three")
    assert "Part four draft" not in nav
    assert '<span aria-current="page" class="series-nav__current">Part two' in nav
    assert (
        f'href="{first.get_absolute_url()}"' in nav and f'href="{third.get_absolute_url()}"' in nav
    )


def test_post_page_links_previous_and_next_public_posts(client):
    older = PostFactory(title="The older one", published_at=ago(days=3))
    PostFactory(title="A draft between", draft=True)
    current = PostFactory(published_at=ago(days=2))
    PostFactory(title="Scheduled after", scheduled=True)
    newer = PostFactory(title="The newer one", published_at=ago(days=1))
    body = html(client.get(current.get_absolute_url()))
    assert f'href="{older.get_absolute_url()}" rel="prev"' in body
    assert f'href="{newer.get_absolute_url()}" rel="next"' in body
    assert "A draft between" not in body and "Scheduled after" not in body


def test_post_page_related_posts_share_most_tags_then_are_newest(client):
    a, b, c = TagFactory(), TagFactory(), TagFactory()
    post = PostFactory(tags=[a, b, c], published_at=ago(days=10))
    two_shared = PostFactory(title="Shares two", tags=[a, b], published_at=ago(days=9))
    one_new = PostFactory(title="Shares one, newer", tags=[c], published_at=ago(days=1))
    one_old = PostFactory(title="Shares one, older", tags=[a], published_at=ago(days=8))
    PostFactory(title="Shares one, oldest", tags=[b], published_at=ago(days=20))
    PostFactory(title="Shares all but draft", tags=[a, b, c], draft=True)
    PostFactory(title="Unrelated", tags=[TagFactory()])
    response = client.get(post.get_absolute_url())
    related = [p.title for p in response.context_data["related_posts"]]
    assert related == [two_shared.title, one_new.title, one_old.title]


def test_post_page_cache_tags_cover_post_related_neighbours_and_series(client):
    tag, author, series = TagFactory(), AuthorFactory(), SeriesFactory()
    older = PostFactory(published_at=ago(days=5), series=series, series_order=1)
    post = PostFactory(
        authors=[author], tags=[tag], published_at=ago(days=3), series=series, series_order=2
    )
    other_author = AuthorFactory()
    related = PostFactory(tags=[tag], authors=[other_author], published_at=ago(days=1))
    response = client.get(post.get_absolute_url())
    assert response.cache_tags == {
        cache_tags.POSTS,
        cache_tags.post(post.pk),
        cache_tags.author(author.pk),
        cache_tags.tag(tag.pk),
        cache_tags.series(series.pk),
        cache_tags.post(older.pk),  # previous post and series nav
        cache_tags.post(related.pk),  # related post and next post
        cache_tags.author(other_author.pk),
    }


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_unpublished_post_is_404_for_anonymous_readers(client, trait):
    post = PostFactory(**{trait: True})
    assert_custom_404(client.get(post.get_absolute_url()))


@pytest.mark.parametrize("trait", ["draft", "scheduled"])
def test_author_previews_unpublished_post_with_banner_and_no_caching(client, trait):
    author = AuthorFactory()
    post = PostFactory(title="Work in progress", authors=[author], **{trait: True})
    client.force_login(author.user)
    response = client.get(post.get_absolute_url())
    assert response.status_code == 200
    body = html(response)
    assert "Preview — not public" in body
    assert "Work in progress" in body
    assert '<meta name="robots" content="noindex, follow">' in body
    assert not hasattr(response, "cache_tags")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "Cache-Tag" not in response


def test_other_logged_in_users_cannot_preview_a_draft(client):
    post = PostFactory(draft=True, authors=[AuthorFactory()])
    client.force_login(AuthorFactory().user)
    assert_custom_404(client.get(post.get_absolute_url()))


def test_public_post_shows_no_preview_banner_to_its_author(client):
    author = AuthorFactory()
    post = PostFactory(authors=[author])
    client.force_login(author.user)
    body = html(client.get(post.get_absolute_url()))
    assert "Preview — not public" not in body


# --- URL history ------------------------------------------------------------------------------


SAVE = {
    "Post": lambda o: services.post_save(post=o),
    "Tag": lambda o: services.tag_save(tag=o),
    "Series": lambda o: services.series_save(series=o),
    "AuthorProfile": lambda o: services.author_save(author=o),
}


def rename(obj, field="slug", *values):
    """Rename through the services, as the admin does (they keep URL history)."""
    for value in values:
        setattr(obj, field, value)
        SAVE[type(obj).__name__](obj)
    return obj


def test_old_post_slug_answers_301_to_the_current_url(client):
    rename(PostFactory(slug="first-title"), "slug", "second-title")
    response = client.get("/posts/first-title/")
    assert response.status_code == 301
    assert response["Location"] == "/posts/second-title/"
    assert not hasattr(response, "cache_tags")


def test_slug_chains_collapse_to_one_hop(client):
    rename(PostFactory(slug="v1"), "slug", "v2", "v3", "v4")
    for old in ("v1", "v2", "v3"):
        response = client.get(f"/posts/{old}/")
        assert (response.status_code, response["Location"]) == (301, "/posts/v4/")


def test_live_post_taking_an_old_slug_wins_over_the_redirect(client):
    rename(PostFactory(slug="taken", title="Renamed away"), "slug", "elsewhere")
    PostFactory(slug="taken", title="The new owner")
    response = client.get("/posts/taken/")
    assert response.status_code == 200
    assert "The new owner" in html(response)


def test_old_slug_of_a_post_now_unpublished_is_404(client):
    post = rename(PostFactory(slug="was-public"), "slug", "now-draft")
    post.status = Post.Status.DRAFT
    post.save()
    assert_custom_404(client.get("/posts/was-public/"))


def test_old_tag_and_series_slugs_redirect(client):
    rename(TagFactory(slug="js"), "slug", "javascript")
    rename(SeriesFactory(slug="intro"), "slug", "introduction")
    assert client.get("/tags/js/")["Location"] == "/tags/javascript/"
    assert client.get("/series/intro/").status_code == 301
    assert client.get("/series/intro/")["Location"] == "/series/introduction/"


def test_unknown_slugs_are_the_custom_404(client):
    for url in ("/posts/nope/", "/tags/nope/", "/series/nope/", "/authors/nope/", "/nope/"):
        assert_custom_404(client.get(url))


def test_500_page_renders_without_context_processors_or_database():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    assert "<h1>Something went wrong</h1>" in body
    assert "/static/css/site.css" in body


# --- Tags and series --------------------------------------------------------------------------


def test_tag_index_lists_tags_with_public_post_counts(client):
    python, go = TagFactory(name="Python"), TagFactory(name="Go")
    empty = TagFactory(name="Unused")
    PostFactory(tags=[python, go])
    PostFactory(tags=[python])
    PostFactory(tags=[python], draft=True)
    PostFactory(tags=[empty], scheduled=True)
    response = client.get("/tags/")
    body = html(response)
    assert body.index(">Go<") < body.index(">Python<")
    assert re.search(r">Python</span> <span class=\"tag-index__count\">2 posts<", body)
    assert re.search(r">Go</span> <span class=\"tag-index__count\">1 post<", body)
    assert "Unused" not in body
    assert response.cache_tags == {cache_tags.POSTS, cache_tags.TAGS}


def test_tag_index_paginates_a_hundred_a_page(client):
    post = PostFactory()
    services.post_set_tags(post=post, tags=[TagFactory(name=f"Tag {n:03d}") for n in range(101)])
    assert "Tag 099" in html(client.get("/tags/")) and "Tag 100" not in html(client.get("/tags/"))
    assert "Tag 100" in html(client.get("/tags/?page=2"))
    assert_custom_404(client.get("/tags/?page=3"))


def test_tag_page_shows_description_feed_link_and_its_public_posts(client):
    tag = TagFactory(name="Databases", slug="databases", description="Rows, columns and indexes.")
    tagged = PostFactory(title="Indexes explained", tags=[tag])
    PostFactory(title="Untagged post")
    PostFactory(title="Tagged draft", tags=[tag], draft=True)
    response = client.get("/tags/databases/")
    body = html(response)
    assert '<h1><span aria-hidden="true">#</span>Databases</h1>' in body
    assert '<meta name="description" content="Rows, columns and indexes.">' in body
    assert 'href="/tags/databases/feed/"' in body
    assert 'rel="alternate" type="application/rss+xml"' in body
    assert "Indexes explained" in body
    assert "Untagged post" not in body and "Tagged draft" not in body
    assert response.cache_tags == {cache_tags.POSTS, cache_tags.tag(tag.pk)} | cache_tags.for_posts(
        Post.objects.with_card_data().filter(pk=tagged.pk)
    )


def test_series_page_lists_public_posts_in_series_order(client):
    series = SeriesFactory(title="Postgres for app developers", description="A short course.")
    second = PostFactory(
        title="Second part", series=series, series_order=2, published_at=ago(days=9)
    )
    first = PostFactory(title="First part", series=series, series_order=1, published_at=ago(days=1))
    PostFactory(title="Draft part", series=series, series_order=3, draft=True)
    response = client.get(series.get_absolute_url())
    assert titles_in_order(response, [first, second]) == ["First part", "Second part"]
    assert "Draft part" not in html(response)
    assert "A short course." in html(response)
    assert cache_tags.series(series.pk) in response.cache_tags
    assert {cache_tags.post(first.pk), cache_tags.post(second.pk)} <= response.cache_tags


# --- Search ---------------------------------------------------------------------------------


def test_search_without_query_shows_only_the_labelled_form(client):
    PostFactory(title="Anything")
    response = client.get("/search/")
    body = html(response)
    assert '<label for="search-q">Search posts</label>' in body
    assert "Anything" not in body
    assert "No results" not in body


def test_search_finds_public_posts_and_never_drafts(client):
    hit = PostFactory(title="Tuning autovacuum thresholds")
    PostFactory(title="Autovacuum draft notes", draft=True)
    PostFactory(title="Something else entirely")
    response = client.get("/search/?q=autovacuum")
    body = html(response)
    assert "Tuning autovacuum thresholds" in body
    assert "Autovacuum draft notes" not in body
    assert "Something else entirely" not in body
    assert response.cache_tags == {cache_tags.POSTS} | cache_tags.for_posts(
        Post.objects.with_card_data().filter(pk=hit.pk)
    )


def test_search_with_no_match_says_so(client):
    PostFactory(title="Caching")
    body = html(client.get("/search/?q=zebrafish"))
    assert "No results for “zebrafish”" in body


def test_search_escapes_the_query(client):
    body = html(client.get("/search/?q=%3Cscript%3Ealert(1)%3C/script%3E"))
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)" in body


def test_search_ranks_title_matches_first_on_postgresql_and_newest_first_elsewhere(client):
    in_title = PostFactory(
        title="Connection pooling with pgbouncer",
        summary="A short tour.",
        body="Nothing more to say here.",
        published_at=ago(days=5),
    )
    in_body = PostFactory(
        title="Notes from the on-call week",
        summary="What went wrong.",
        body="We finally put pgbouncer in front of the database.",
        published_at=ago(days=1),
    )
    results = list(client.get("/search/?q=pgbouncer").context_data["posts"])
    if connection.vendor == "postgresql":
        assert results == [in_title, in_body]  # weight A (title) beats weight C (body)
    else:
        assert results == [in_body, in_title]  # the fallback: every match, newest first


def test_search_result_snippet_highlights_matches(client):
    PostFactory(
        title="Weekly notes",
        summary="Assorted notes from the week.",
        body='We replaced the flaky cron with a proper scheduler & it worked "first" time.',
    )
    body = html(client.get("/search/?q=scheduler"))
    if connection.vendor == "postgresql":
        assert "<mark>scheduler</mark>" in body
        assert "&amp; it worked &quot;first&quot; time" in body
    else:
        assert "Assorted notes from the week." in body  # SQLite shows the summary


def test_search_paginates_ten_a_page(client):
    for n in range(11):
        PostFactory(title=f"Kubernetes tip {n}", published_at=ago(hours=n + 1))
    assert len(client.get("/search/?q=kubernetes").context_data["posts"]) == 10
    response = client.get("/search/?q=kubernetes&page=2")
    assert len(response.context_data["posts"]) == 1
    assert 'href="?q=kubernetes"' in html(response)  # back to page one keeps the query


# --- Query budget -----------------------------------------------------------------------------

# Queries each page runs, whatever the number of posts, tags and authors on it.
QUERY_BUDGET = {
    "/": 3,  # posts, authorships, post tags
    # post, related posts, bylines and tags (the post's and related posts' together),
    # older + newer, series nav
    "/posts/middle/": 6,
    "/tags/": 2,  # the tags, and the few scheduled posts to subtract from stored counts
    "/tags/tag-0/": 4,  # tag, posts + 2 prefetches
    "/series/the-series/": 4,
    "/search/?q=budget": 3,
}


def build_site(n_tags: int, n_authors: int) -> None:
    tags = [TagFactory(slug=f"tag-{n}") for n in range(n_tags)]
    authors = [AuthorFactory() for _ in range(n_authors)]
    series = SeriesFactory(slug="the-series")
    for n, slug in enumerate(["oldest", "middle", "newest", "another", "more"]):
        PostFactory(
            slug=slug,
            title=f"Budget post {n}",
            tags=tags,
            authors=authors,
            series=series,
            series_order=n,
            published_at=ago(days=10 - n),
        )


@pytest.mark.parametrize("url", list(QUERY_BUDGET))
@pytest.mark.parametrize(("n_tags", "n_authors"), [(1, 1), (20, 5)])
def test_page_query_count_does_not_grow_with_tags_or_authors(
    client, no_page_cache, django_assert_num_queries, url, n_tags, n_authors
):
    build_site(n_tags, n_authors)
    with django_assert_num_queries(QUERY_BUDGET[url]):
        response = client.get(url)
    assert response.status_code == 200


def test_post_outside_a_series_takes_five_queries(client, no_page_cache, django_assert_num_queries):
    tags, authors = [TagFactory() for _ in range(3)], [AuthorFactory() for _ in range(2)]
    for n in range(5):
        PostFactory(slug=f"post-{n}", tags=tags, authors=authors, published_at=ago(days=n + 1))
    with django_assert_num_queries(5):
        response = client.get("/posts/post-2/")
    assert response.status_code == 200
    assert len(response.context_data["related_posts"]) == 3
    assert response.context_data["previous_post"].slug == "post-3"
    assert response.context_data["next_post"].slug == "post-1"


def test_home_query_count_does_not_grow_with_posts(client, no_page_cache):
    counts = []
    for _ in range(2):
        for _ in range(6):
            PostFactory(tags=[TagFactory()], authors=[AuthorFactory()])
        with CaptureQueriesContext(connection) as ctx:
            client.get("/")
        counts.append(len(ctx))
    assert counts == [3, 3]
