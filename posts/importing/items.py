"""What a parsed feed is, whatever format it came in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class ImportFailed(Exception):
    """The file cannot be imported; the message is one line for the operator."""


@dataclass(frozen=True)
class FeedAuthor:
    handle: str  # already slugified: the AuthorProfile handle it maps to
    display_name: str
    email: str = ""


@dataclass
class FeedItem:
    source_guid: str
    title: str
    body_html: str  # as found in the feed; sanitised when the post renders
    summary: str  # plain text; "" means derive it from the body
    link: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    author_handles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    slug: str = ""  # wanted slug (WXR post_name); "" means from the title
    status: str = "published"  # a Post.Status value
    old_path: str = ""  # path on the old site that should redirect here (WXR)
    note: str = ""  # something the operator should hear about this item


@dataclass(frozen=True)
class Skipped:
    title: str
    reason: str


@dataclass
class ParsedFeed:
    kind: str  # feedparser's version ("rss20", "atom10", …) or "wxr"
    title: str
    authors: dict[str, FeedAuthor] = field(default_factory=dict)  # by handle
    items: list[FeedItem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    authors_created: int = 0
    tags_created: int = 0
