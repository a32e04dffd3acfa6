"""Post cards rendered once per content (posts/cards.py): reused when nothing they
show has changed, rendered afresh the moment anything has."""

from __future__ import annotations

import pytest
from django.template import engines

from posts import cards, services
from posts.tests.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def site(settings):
    settings.PAGE_CACHE_ENABLED = False  # every request renders; setting it empties the cards
    ada = AuthorFactory(display_name="Ada Quill")
    rust = TagFactory(name="Rust", slug="rust")
    post = PostFactory(title="Borrowing, explained", authors=[ada], tags=[rust])
    return post, ada, rust


def card_of(body: str, title: str) -> str:
    """The <article> of the card whose title is `title`."""
    end = body.index(f">{title}</a>")
    return body[body.rindex("<article", 0, end) : body.index("</article>", end)]


def test_the_same_rows_give_the_same_card_rendered_once(site, client):
    first = client.get("/").content.decode()
    assert len(cards.rendered) == 1
    again = client.get("/").content.decode()
    assert again == first
    assert len(cards.rendered) == 1
    # The tag page shows the same card, first of its grid as on the home page: reused.
    tag_page = client.get("/tags/rust/").content.decode()
    assert len(cards.rendered) == 1
    assert card_of(tag_page, "Borrowing, explained") == card_of(first, "Borrowing, explained")
    # As a related post it is another variant (an h3): rendered once more.
    client.get(PostFactory(tags=[site[2]]).get_absolute_url())
    assert len(cards.rendered) == 2


def rename_author(post, ada, rust):
    ada.display_name = "Ada L."
    services.author_save(author=ada)


def add_tag(post, ada, rust):
    services.post_set_tags(post=post, tags=[rust, TagFactory(name="Async")])


@pytest.mark.parametrize(
    "change, shown",
    [
        (lambda post, ada, rust: services.post_update(post=post, title="Borrowing, revised"),
         ">Borrowing, revised</a>"),
        (rename_author, ">Ada L.</a>"),
        (lambda post, ada, rust: services.tag_update(tag=rust, name="Rustlang"),
         "</span>Rustlang</a>"),
        (add_tag, "</span>Async</a>"),
    ],
    ids=["post title", "author name", "tag name", "tags"],
)  # fmt: skip
def test_a_card_shows_any_change_at_once(site, client, change, shown):
    post, ada, rust = site
    client.get("/")
    change(post, ada, rust)
    body = client.get("/").content.decode()
    title = "Borrowing, revised" if "revised" in shown else "Borrowing, explained"
    assert shown in card_of(body, title)


def test_the_cards_kept_are_bounded_oldest_out():
    kept = cards.RenderedCards(2)
    for n in range(3):
        kept.put(("card", n), f"<article>{n}</article>")
    assert kept.get(("card", 0)) is None
    assert kept.get(("card", 1)) == "<article>1</article>"
    kept.put(("card", 3), "<article>3</article>")  # 1 was read last: 2 goes
    assert kept.get(("card", 2)) is None
    assert len(kept) == 2


def test_a_setting_change_forgets_every_card(site, client, settings):
    client.get("/")
    assert len(cards.rendered) == 1
    settings.MEDIA_URL = "/uploads/"
    assert len(cards.rendered) == 0


def test_an_author_card_is_reused_until_the_author_or_their_count_changes(site, client):
    _post, ada, _rust = site
    first = client.get("/authors/").content.decode()
    kept = len(cards.rendered)
    assert client.get("/authors/").content.decode() == first
    assert len(cards.rendered) == kept
    assert '<p class="author-card__count">1 post</p>' in first
    PostFactory(authors=[ada])
    ada.tagline = "Writes about ownership."
    services.author_save(author=ada)
    body = client.get("/authors/").content.decode()
    assert '<p class="author-card__count">2 posts</p>' in body
    assert '<p class="author-card__tagline">Writes about ownership.</p>' in body


def test_a_reloaded_card_template_forgets_every_card(site, client):
    # DEBUG reloads an edited template file: the kept cards came from the old one.
    client.get("/")
    cards.rendered.put(b"kept", "<article>kept</article>")
    client.get("/")
    assert cards.rendered.get(b"kept") is not None  # same template: cards kept
    engines["jinja2"].env.cache.clear()  # what a reload does: a new Template object
    client.get("/")
    assert cards.rendered.get(b"kept") is None
    assert len(cards.rendered) == 1  # the home page's card, rendered again


def test_a_search_results_details_serve_every_search_that_finds_it(site, client):
    post, ada, rust = site
    first = client.get("/search/?q=borrowing").content.decode()
    assert len(cards.rendered) == 1
    second = client.get("/search/?q=explained").content.decode()
    assert len(cards.rendered) == 1  # other words, other rank and snippet: the same details

    def details(body: str) -> str:
        start = body.index('<div class="result__meta">')
        return body[start : body.index("</ul>", start)]

    assert details(first) == details(second)
    assert ">Ada Quill</a>" in details(first) and "</span>Rust</a>" in details(first)
    rename_author(post, ada, rust)
    assert ">Ada L.</a>" in details(client.get("/search/?q=borrowing").content.decode())


def test_a_feed_item_is_written_once_per_format_and_shows_any_change_at_once(site, client):
    post, ada, rust = site
    first = client.get("/feed/").content
    assert len(cards.rendered_items) == 1
    assert client.get("/feed/").content == first  # the kept item, as written the first time
    tag_feed = client.get("/tags/rust/feed/").content.decode()
    assert len(cards.rendered_items) == 1  # the same item in the tag's feed
    item = first.decode()[first.decode().index("<item>") : first.decode().index("</item>")]
    assert item in tag_feed
    client.get("/feed/atom/")
    client.get("/feed.json")
    assert len(cards.rendered_items) == 3  # one per format
    rename_author(post, ada, rust)
    assert "<dc:creator>Ada L.</dc:creator>" in client.get("/feed/").content.decode()
    services.post_update(post=post, title="Borrowing, revised")
    entry = client.get("/feed.json").json()["items"][0]
    assert (entry["title"], entry["authors"][0]["name"]) == ("Borrowing, revised", "Ada L.")
