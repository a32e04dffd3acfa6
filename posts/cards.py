"""Post and author cards (and a search result's details, and feed items:
posts/feeds.py), rendered once per process for each distinct content.

A post card (templates/includes/post_card.html) is a pure function of what it
is given: the post's row, its byline rows with their authors, its tag rows with
their tags, and the variant (heading, eager, large); an author card, of the
author's row with its post count. The same card appears on the home page, its
tags' and authors' pages and as a related post, and after an edit nine cards of
ten on a listing are unchanged. So the rendered HTML is kept
per worker, keyed by a 128-bit digest of those values as the rows were just
read from the database: a changed post, author or tag is a different key, never
a stale card, and nothing needs invalidating. Only the rendering is saved, never
a query.

Bounded (MAX_CARDS, least recently used first out), and emptied when a setting
changes (media URLs, the time zone of the dates) or a card template is reloaded.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver
from jinja2 import pass_environment
from markupsafe import Markup

# About 5 KB each (the HTML, two bytes a character: a card holds an arrow): 500
# cost a worker 2.5 MB. Listings of the last few dozen pages read fit.
MAX_CARDS = 500


def _row(obj: Any, leave_out: frozenset[str] = frozenset()) -> list:
    """Every field value loaded on a model instance (deferred ones are not loaded)
    and anything set on it, such as annotations, but the names in `leave_out`; not
    Django's own state (`_state`, caches), whose repr would hold memory addresses."""
    return [
        value for name, value in obj.__dict__.items() if name[0] != "_" and name not in leave_out
    ]


def digest(values: Any) -> bytes:
    """A 128-bit digest of `values` by their repr, which spells each value out:
    strings quoted, datetimes in full, a file by its name, JSON as its dict. Equal
    content may still differ in repr (a dict's key order); that only costs a render."""
    return hashlib.blake2b(repr(values).encode(), digest_size=16).digest()


def card_key(post: Any, variant: tuple, leave_out: frozenset[str] = frozenset()) -> bytes:
    """Everything a card can show: the post (but `leave_out`, values the card does
    not show), its byline and its tags, as loaded."""
    return digest(
        (
            "post",
            variant,
            _row(post, leave_out),
            [(_row(a), _row(a.author)) for a in post.authorships.all()],
            [(_row(t), _row(t.tag)) for t in post.post_tags.all()],
        )
    )


class RenderedCards:
    """A bounded, least-recently-used map of card keys to HTML; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[bytes, Markup] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Markup | None:
        with self._lock:
            html = self._items.get(key)
            if html is not None:
                self._items.move_to_end(key)
            return html

    def put(self, key: bytes, html: Markup) -> None:
        with self._lock:
            self._items[key] = html
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


rendered = RenderedCards(MAX_CARDS)
# Feed items (posts/feeds.py), each with its post's HTML body: about 4 KB of text
# each; 300 hold the site feed and dozens of tag and author feeds in 3 formats.
MAX_FEED_ITEMS = 300
rendered_items = RenderedCards(MAX_FEED_ITEMS)


@receiver(setting_changed)
def _forget_cards(**kwargs: Any) -> None:
    rendered.clear()
    rendered_items.clear()


# The template each card macro came from last: a reloaded one (DEBUG reloads an
# edited file) makes every kept card out of date.
_templates: dict[str, Any] = {}


def _rendered(environment, key: bytes, name: str, macro: str, *args: Any, **kwargs: Any):
    """The macro's HTML for these arguments, rendered only when `key` is new."""
    template = environment.get_template(name)  # a cache lookup, unless DEBUG reloads
    if _templates.get(name) is not template:
        _templates[name] = template
        rendered.clear()
    html = rendered.get(key)
    if html is None:
        html = getattr(template.module, macro)(*args, **kwargs)  # Markup: autoescaped
        rendered.put(key, html)
    return html


@pass_environment
def post_card(
    environment, post: Any, heading: str = "h2", eager: bool = False, large: bool = False
):
    """The post_card macro's HTML for `post`, rendered only for content not seen before.
    `post` needs its card data (with_card_data() or attach_card_data())."""
    eager, large = bool(eager), bool(large)  # a template may pass an undefined value
    key = card_key(post, (heading, eager, large))
    return _rendered(
        environment, key, "includes/post_card.html", "post_card",
        post, heading=heading, eager=eager, large=large,
    )  # fmt: skip


# What a search adds to each post it finds; a result's details do not show them,
# so one rendering serves every search that finds the post.
SEARCH_VALUES = frozenset({"rank", "snippet"})


@pass_environment
def result_details(environment, post: Any):
    """A search result's byline, date and tags (the result_details macro): the part
    of a result that is the same whatever the words searched for."""
    key = card_key(post, ("result",), SEARCH_VALUES)
    return _rendered(environment, key, "includes/post_card.html", "result_details", post)


@pass_environment
def author_card(environment, author: Any):
    """The author_card macro's HTML for `author` (with its `public_post_count`)."""
    key = digest(("author", _row(author)))
    return _rendered(environment, key, "includes/author_card.html", "author_card", author)
