"""Site, per-tag and per-author feeds: RSS 2.0, Atom 1.0 and JSON Feed 1.1.

Every item carries the full sanitised body, every co-author in byline order,
every tag, both dates and a guid built from the post's pk, so a feed reader
never shows a post twice when its slug changes.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed, SyndicationFeed
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.xmlutils import SimplerXMLGenerator

from accounts.models import AuthorProfile
from core.cache import tags as cache_tags
from core.links import site_url
from posts import cards, selectors
from posts.models import Post, Tag
from posts.querysets import PreparedListing
from posts.slugs import resolve_old_slug

FEED_LENGTH = 20
# The date in a tag: URI (RFC 4151) says when the name was minted; it must never change.
GUID_DATE = "2026"
DC_NS = "http://purl.org/dc/elements/1.1/"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"

_URL_ATTR = re.compile(r'(?P<lead>\s(?:href|src)=")(?P<url>[^"]*)"')
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def post_guid(post: Post) -> str:
    return f"tag:{site_host()},{GUID_DATE}:post:{post.pk}"


def absolutize_urls(body_html: str, base_url: str) -> str:
    """Make every relative href/src in sanitised HTML absolute.

    Feed readers show the body away from our site, so "/media/x.png" or "#fn1"
    would point nowhere. nh3 writes attributes double-quoted, so a regex is enough.
    """

    def fix(match: re.Match) -> str:
        url = match["url"]
        if not url or _HAS_SCHEME.match(url):
            return match[0]
        return f'{match["lead"]}{urljoin(base_url, url)}"'

    return _URL_ATTR.sub(fix, body_html)


# --- Feed generators -----------------------------------------------------------
# The stock generators write one author per item and no full content.


class KeptItems:
    """Writes each item once per content, as posts/cards.py renders cards: an item
    is a pure function of its post's row, byline and tags (and the feed type), so
    its text is kept per worker under a digest of those (`PostFeed.item_key`). A
    kept item comes in as {"kept": text, and its dates}; a new one as the usual
    item dict plus its "key"."""

    def item_text(self, item: dict) -> str:
        text = item.get("kept")
        if text is None:
            text = self.render_item(item)
            cards.rendered_items.put(item["key"], text)
        return text

    def render_item(self, item: dict) -> str:
        buffer = io.StringIO()
        handler = SimplerXMLGenerator(buffer, "utf-8", short_empty_elements=True)
        handler.startElement(self.item_element, self.item_attributes(item))
        self.add_item_elements(handler, item)
        handler.endElement(self.item_element)
        return buffer.getvalue()

    def write_items(self, handler) -> None:
        for item in self.items:
            handler.ignorableWhitespace(self.item_text(item))  # written as it is


class MultiAuthorRssFeed(KeptItems, Rss201rev2Feed):
    item_element = "item"

    def rss_attributes(self) -> dict[str, str]:
        return {**super().rss_attributes(), "xmlns:dc": DC_NS, "xmlns:content": CONTENT_NS}

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        for name, _uri in item["authors"]:
            handler.addQuickElement("dc:creator", name)
        if item["updateddate"] is not None:
            # RSS has no updated date of its own; the atom namespace is already declared.
            handler.addQuickElement("atom:updated", item["updateddate"].isoformat())
        handler.addQuickElement("content:encoded", item["content_html"])


class MultiAuthorAtomFeed(KeptItems, Atom1Feed):
    item_element = "entry"

    def add_item_elements(self, handler, item) -> None:
        super().add_item_elements(handler, item)
        for name, uri in item["authors"]:
            handler.startElement("author", {})
            handler.addQuickElement("name", name)
            handler.addQuickElement("uri", uri)
            handler.endElement("author")
        handler.addQuickElement("content", item["content_html"], {"type": "html"})


class JsonFeed(KeptItems, SyndicationFeed):
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1), fed by the same Feed class."""

    content_type = "application/feed+json; charset=utf-8"

    def write(self, outfile, encoding) -> None:
        feed = self.feed
        data = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["description"],
            "language": feed["language"],
        }
        # What json.dumps() writes for the whole, with each item's text as kept.
        items = ", ".join(self.item_text(item) for item in self.items)
        outfile.write(f'{json.dumps(data, ensure_ascii=False)[:-1]}, "items": [{items}]}}')

    def render_item(self, item: dict) -> str:
        return json.dumps(self.item_json(item), ensure_ascii=False)

    @staticmethod
    def item_json(item: dict) -> dict:
        data = {
            "id": item["unique_id"],
            "url": item["link"],
            "title": item["title"],
            "summary": item["description"],
            "content_html": item["content_html"],
            "date_published": item["pubdate"].isoformat(),
            "date_modified": (item["updateddate"] or item["pubdate"]).isoformat(),
            "authors": [{"name": name, "url": uri} for name, uri in item["authors"]],
            "tags": list(item["categories"]),
        }
        if item.get("external_url"):
            data["external_url"] = item["external_url"]
        return data


# --- Feeds ---------------------------------------------------------------------


@dataclass
class FeedScope:
    """What one request's feed shows: its posts, and the tag or author it is about
    (None for the site feed). Per request, because Feed instances are shared."""

    listing: PreparedListing
    subject: Model | None = None

    @cached_property
    def posts(self) -> list[Post]:
        return self.listing[0:FEED_LENGTH]


class PostFeed(Feed):
    """The site feed. Subclasses narrow it to one tag or one author."""

    feed_type = MultiAuthorRssFeed
    feed_url_name = "feed"
    cache_query_params = ()  # the page cache keys feeds on their path alone

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Feed.__call__ does the same minus the redirect and the cache tags,
        # which need the scope object it keeps to itself.
        try:
            scope = self.get_object(request, *args, **kwargs)
        except ObjectDoesNotExist as exc:
            moved = self.moved_to(**kwargs)
            if moved:
                return HttpResponsePermanentRedirect(moved)
            raise Http404("Feed object does not exist.") from exc
        feedgen = self.get_feed(scope, request)
        # Written to a string first: the XML writer makes ~1,200 small writes, each
        # encoded and stored apart by an HttpResponse.
        buffer = io.StringIO()
        feedgen.write(buffer, "utf-8")
        response = HttpResponse(buffer.getvalue(), content_type=feedgen.content_type)
        response.headers["Last-Modified"] = http_date(feedgen.latest_post_date().timestamp())
        response.cache_tags = self.page_cache_tags(scope)
        return response

    def get_feed(self, scope: FeedScope, request: HttpRequest) -> SyndicationFeed:
        """What Feed.get_feed builds, without looking each value up by name: it
        inspects a method's signature for every one of ~15 values an item has
        (a fifth of an uncached feed's CPU), to support hooks this site does not
        use (item templates, enclosures, per-item copyright). Every link here is
        absolute already."""
        feed = self.feed_type(
            title=self.title(scope),
            subtitle=self.subtitle(scope),
            link=self.link(scope),
            description=self.description(scope),
            language=get_language(),
            feed_url=self.feed_url(scope),
            author_name=self.author_name(scope),
            feed_guid=self.feed_guid(scope),
        )
        for post in scope.posts:
            key = self.item_key(post)
            kept = cards.rendered_items.get(key)
            if kept is not None:  # the text, and the dates latest_post_date() reads
                published, updated = self.item_pubdate(post), self.item_updateddate(post)
                feed.items.append({"kept": kept, "pubdate": published, "updateddate": updated})
                continue
            link = self.item_link(post)
            feed.add_item(
                key=key,
                title=self.item_title(post),
                link=link,
                description=self.item_description(post),
                unique_id=self.item_guid(post),
                unique_id_is_permalink=self.item_guid_is_permalink,
                pubdate=self.item_pubdate(post),
                updateddate=self.item_updateddate(post),
                categories=self.item_categories(post),
                **self.item_extra_kwargs(post, link),
            )
        return feed

    def item_key(self, post: Post) -> bytes:
        """Everything an item shows: the post, its byline and tags, in this format,
        with links on this site's URL."""
        return cards.card_key(post, ("feed item", self.feed_type.__name__, settings.SITE_URL))

    # Hooks for the per-subject feeds.
    def moved_to(self, **kwargs) -> str | None:
        """Where an old slug's feed lives now, if the URL's slug is an old one."""
        return None

    def get_object(self, request: HttpRequest, *args, **kwargs) -> FeedScope:
        return FeedScope(listing=self.posts_listing("all"))

    @staticmethod
    def posts_listing(subject: str, pk: int | None = None) -> PreparedListing:
        # The body goes out as HTML; the Markdown and the search vector stay behind.
        return selectors.listing(subject, pk, defer=("body", "search_vector"))

    def page_cache_tags(self, scope: FeedScope) -> set[str]:
        return {cache_tags.POSTS} | cache_tags.for_posts(scope.posts)

    # Feed-level data.
    def title(self, scope: FeedScope) -> str:
        return settings.SITE_NAME

    def description(self, scope: FeedScope) -> str:
        return settings.SITE_DESCRIPTION

    def link(self, scope: FeedScope) -> str:
        return site_url(reverse("posts:home"))

    def feed_url(self, scope: FeedScope) -> str:
        return site_url(reverse(self.feed_url_name))

    def feed_guid(self, scope: FeedScope) -> str:
        return f"tag:{site_host()},{GUID_DATE}:feed"

    def subtitle(self, scope: FeedScope) -> str | None:
        return None  # Atom's; RSS has the description

    def author_name(self, scope: FeedScope) -> str:
        # Atom wants a feed author for any entry without one (imported posts may have none).
        return settings.SITE_NAME

    def items(self, scope: FeedScope) -> list[Post]:
        return scope.posts

    # Item data.
    def item_title(self, post: Post) -> str:
        return post.title

    def item_description(self, post: Post) -> str:
        return post.summary

    def item_link(self, post: Post) -> str:
        return site_url(post.get_absolute_url())

    def item_guid(self, post: Post) -> str:
        return post_guid(post)

    item_guid_is_permalink = False

    def item_pubdate(self, post: Post):
        return post.published_at

    def item_updateddate(self, post: Post):
        return max(post.updated_at, post.published_at)

    def item_categories(self, post: Post) -> list[str]:
        return [pt.tag.name for pt in post.post_tags.all()]

    def item_extra_kwargs(self, post: Post, link: str) -> dict:
        return {
            "content_html": absolutize_urls(post.body_html, link),
            "authors": [
                (a.author.display_name, site_url(a.author.get_absolute_url()))
                for a in post.authorships.all()
            ],
            "external_url": post.canonical_url or None,
        }


class AtomPostFeed(PostFeed):
    feed_type = MultiAuthorAtomFeed
    feed_url_name = "feed_atom"

    def subtitle(self, scope: FeedScope) -> str:
        return self.description(scope)


class JsonPostFeed(PostFeed):
    feed_type = JsonFeed
    feed_url_name = "feed_json"


class SubjectFeed(PostFeed):
    """A feed about one object named by a slug in the URL; old slugs answer 301."""

    model: type[Model]
    slug_field: str
    url_kwarg: str
    subject_kind: str

    def moved_to(self, **kwargs) -> str | None:
        pk = resolve_old_slug(kind=self.subject_kind, slug=kwargs[self.url_kwarg])
        current = self.model.objects.filter(pk=pk).first() if pk else None
        if current is None:
            return None
        return reverse(
            self.feed_url_name, kwargs={self.url_kwarg: getattr(current, self.slug_field)}
        )

    def feed_url(self, scope: FeedScope) -> str:
        slug = getattr(scope.subject, self.slug_field)
        return site_url(reverse(self.feed_url_name, kwargs={self.url_kwarg: slug}))

    def link(self, scope: FeedScope) -> str:
        return site_url(scope.subject.get_absolute_url())

    def feed_guid(self, scope: FeedScope) -> str:
        return f"tag:{site_host()},{GUID_DATE}:{self.subject_kind}:{scope.subject.pk}:feed"


class TagFeed(SubjectFeed):
    model = Tag
    slug_field = "slug"
    url_kwarg = "slug"
    subject_kind = "tag"
    feed_url_name = "tag_feed"

    def get_object(self, request: HttpRequest, slug: str) -> FeedScope:
        tag = Tag.objects.get(slug=slug)
        return FeedScope(subject=tag, listing=self.posts_listing("tag", tag.pk))

    def page_cache_tags(self, scope: FeedScope) -> set[str]:
        return super().page_cache_tags(scope) | {cache_tags.tag(scope.subject.pk)}

    def title(self, scope: FeedScope) -> str:
        return f"{scope.subject.name} · {settings.SITE_NAME}"

    def description(self, scope: FeedScope) -> str:
        return scope.subject.description or f"Posts tagged {scope.subject.name}."


class AuthorFeed(SubjectFeed):
    model = AuthorProfile
    slug_field = "handle"
    url_kwarg = "handle"
    subject_kind = "author"
    feed_url_name = "author_feed"

    def get_object(self, request: HttpRequest, handle: str) -> FeedScope:
        author = AuthorProfile.objects.get(handle=handle)
        return FeedScope(subject=author, listing=self.posts_listing("author", author.pk))

    def page_cache_tags(self, scope: FeedScope) -> set[str]:
        return super().page_cache_tags(scope) | {cache_tags.author(scope.subject.pk)}

    def title(self, scope: FeedScope) -> str:
        return f"{scope.subject.display_name} · {settings.SITE_NAME}"

    def description(self, scope: FeedScope) -> str:
        return scope.subject.tagline or f"Posts by {scope.subject.display_name}."
