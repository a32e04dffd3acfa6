"""WordPress export files (WXR), read with the standard library's ElementTree.

feedparser reads WXR as RSS 2.0 and exposes `wp:*` elements as `wp_*` keys,
but it flattens the channel's repeated `wp:author` blocks into single
feed-level keys (the last author wins, the others are lost), and likewise an
item's repeated `wp:postmeta`; categories keep their domain (as `scheme`) but
lose their `nicename`. So WXR gets its own small reader over ElementTree;
defusedxml refuses entity-expansion and external-entity tricks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from posts.importing.items import FeedAuthor, FeedItem, ImportFailed, ParsedFeed, Skipped
from posts.importing.text import clean_url, handle_for, path_of, text_of

WP_PREFIX = "http://wordpress.org/export/"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
CREATOR = "{http://purl.org/dc/elements/1.1/}creator"
STATUSES = {
    "publish": "published",
    "future": "published",  # published_at in the future: scheduled
    "draft": "draft",
    "pending": "draft",
    "private": "draft",
}
# WordPress files posts without a category under this one; it is no topic.
DEFAULT_CATEGORY = "uncategorized"


def is_wxr(data: bytes) -> bool:
    return WP_PREFIX.encode() in data[:4096] or b"xmlns:wp=" in data[:4096]


def parse_wxr(data: bytes) -> ParsedFeed:
    try:
        root = fromstring(data)
    except ParseError as exc:
        raise ImportFailed(f"not well-formed XML: {exc}") from None
    except DefusedXmlException as exc:
        raise ImportFailed(f"refused XML construct: {exc}") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise ImportFailed("not a WordPress export (no rss/channel element)")
    wp = _wp_namespace(channel)
    feed = ParsedFeed(kind="wxr", title=_text(channel, "title"))
    logins: dict[str, FeedAuthor] = {}
    for node in channel.findall(f"{wp}author"):
        login = _text(node, f"{wp}author_login")
        name = _text(node, f"{wp}author_display_name") or login
        email = _text(node, f"{wp}author_email")
        author = FeedAuthor(handle_for(login or name, email), name, email)
        logins[login] = author
        feed.authors.setdefault(author.handle, author)
    for node in channel.findall("item"):
        item = _item(node, wp, feed, logins)
        if item is not None:
            feed.items.append(item)
    return feed


def _wp_namespace(channel: Element) -> str:
    for child in channel.iter():
        if child.tag.startswith("{" + WP_PREFIX):
            return child.tag.split("}")[0] + "}"
    return "{" + WP_PREFIX + "1.2/}"


def _text(node: Element, path: str) -> str:
    found = node.find(path)
    return (found.text or "") if found is not None else ""


def _excerpt(node: Element) -> str:
    for child in node:
        if child.tag.endswith("}encoded") and "/excerpt/" in child.tag:
            return child.text or ""
    return ""


def _gmt(value: str) -> datetime | None:
    """`wp:post_date_gmt` ("2019-05-01 10:00:00", UTC); drafts carry zeros."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _rfc822(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo and parsed.year > 1900 else None


def _item(
    node: Element, wp: str, feed: ParsedFeed, logins: dict[str, FeedAuthor]
) -> FeedItem | None:
    title = _text(node, "title").strip()
    post_type = _text(node, f"{wp}post_type") or "post"
    wp_status = _text(node, f"{wp}status") or "publish"
    label = title or f"(untitled {post_type} {_text(node, f'{wp}post_id')})".replace("  ", " ")
    if post_type != "post":
        feed.skipped.append(Skipped(label, f"a WordPress {post_type}, not a post"))
        return None
    if wp_status not in STATUSES:
        feed.skipped.append(Skipped(label, f"status {wp_status!r} is not imported"))
        return None
    status, note = STATUSES[wp_status], ""
    if _text(node, f"{wp}post_password"):
        status, note = "draft", "password-protected: imported as a draft"
    link = _text(node, "link")
    guid = (_text(node, "guid") or link).strip()
    if not guid:
        feed.skipped.append(Skipped(label, "no guid or link to identify it"))
        return None
    creator = _text(node, CREATOR)
    author = logins.get(creator)
    if author is None and creator:
        author = FeedAuthor(handle_for(creator), creator)
        feed.authors.setdefault(author.handle, author)
    tags = []
    for category in node.findall("category"):
        domain = category.get("domain", "category")
        name = (category.text or "").strip()
        if domain not in ("category", "post_tag") or not name:
            continue
        if domain == "category" and (
            category.get("nicename") == DEFAULT_CATEGORY or name.lower() == DEFAULT_CATEGORY
        ):
            continue
        tags.append(name)
    # Unpublished posts carry a zero post_date_gmt and a bogus pubDate: no date at all.
    if node.find(f"{wp}post_date_gmt") is not None:
        published = _gmt(_text(node, f"{wp}post_date_gmt"))
    else:
        published = _rfc822(_text(node, "pubDate"))
    excerpt = _excerpt(node)
    return FeedItem(
        source_guid=guid[:500],
        title=title,
        body_html=_text(node, CONTENT),
        summary=text_of(excerpt) if excerpt.strip() else "",
        link=clean_url(link),
        published_at=published,
        updated_at=_gmt(_text(node, f"{wp}post_modified_gmt")) or published,
        author_handles=(author.handle,) if author else (),
        tags=tuple(tags),
        slug=_text(node, f"{wp}post_name"),
        status=status,
        old_path=path_of(link) if "?" not in link else "",
        note=note,
    )
