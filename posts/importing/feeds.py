"""RSS 0.9x/1.0/2.0 and Atom 0.3/1.0, read with feedparser."""

from __future__ import annotations

import calendar
import html
from datetime import UTC, datetime
from email.utils import parseaddr
from time import struct_time

import feedparser

from posts.importing.items import FeedAuthor, FeedItem, ImportFailed, ParsedFeed, Skipped
from posts.importing.text import clean_url, handle_for, text_of

# Harmless bozo reasons: the declared encoding or content type was off, but
# the document parsed as XML. Anything else means it did not.
_TOLERATED = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_feed(data: bytes) -> ParsedFeed:
    # Our own sanitiser (core.rendering) runs on every body; feedparser's would
    # also rewrite titles it takes for HTML, which must stay exactly as written.
    parsed = feedparser.parse(data, sanitize_html=False, resolve_relative_uris=False)
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(error, _TOLERATED):
        raise ImportFailed(f"not well-formed XML: {_one_line(error)}")
    version = parsed.get("version") or ""
    if not version:
        raise ImportFailed("not an RSS or Atom feed (no feed element found)")
    feed = ParsedFeed(kind=version, title=parsed.feed.get("title", ""))
    fallback = _authors(parsed.feed)
    for entry in parsed.entries:
        item = _item(entry, feed, fallback)
        if item is not None:
            feed.items.append(item)
    return feed


def _one_line(error: object) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def _authors(node) -> list[FeedAuthor]:
    found = []
    details = node.get("authors") or []
    raw = node.get("author") or ""
    if len(details) == 1 and "@" in raw:
        # RSS's "email (Name)": feedparser's own split cuts long top-level domains.
        name, email = parseaddr(raw)
        details = [{"name": name, "email": email}]
    for detail in details:
        name, email = (detail.get("name") or "").strip(), (detail.get("email") or "").strip()
        if name or email:
            found.append(FeedAuthor(handle_for(name, email), name or email.split("@")[0], email))
    return found


def _utc(value: struct_time | None) -> datetime | None:
    # feedparser normalises every date to a naive UTC struct_time.
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC) if value else None


def _body(entry) -> tuple[str, str]:
    """(body HTML, summary HTML or "") of an entry."""
    summary = entry.get("summary") or ""
    contents = entry.get("content") or []
    if not contents:
        return _as_html(summary, entry.get("summary_detail")), ""
    content = max(contents, key=lambda c: c.get("type") == "text/html")
    return _as_html(content.get("value") or "", content), summary


def _as_html(value: str, detail) -> str:
    if detail and detail.get("type") == "text/plain":
        return "".join(f"<p>{html.escape(p)}</p>" for p in value.split("\n\n") if p.strip())
    return value


def _item(entry, feed: ParsedFeed, fallback: list[FeedAuthor]) -> FeedItem | None:
    title = (entry.get("title") or "").strip()
    link = entry.get("link") or ""
    guid = (entry.get("id") or link).strip()
    if not guid:
        feed.skipped.append(Skipped(title or "(untitled)", "no guid, id or link to identify it"))
        return None
    body, summary = _body(entry)
    if summary and text_of(summary) == text_of(body):
        summary = ""
    authors = _authors(entry) or fallback
    for author in authors:
        feed.authors.setdefault(author.handle, author)
    published = _utc(entry.get("published_parsed")) or _utc(entry.get("updated_parsed"))
    return FeedItem(
        source_guid=guid[:500],
        title=title,
        body_html=body,
        summary=text_of(summary) if summary else "",
        link=clean_url(link),
        published_at=published,
        updated_at=_utc(entry.get("updated_parsed")) or published,
        author_handles=tuple(dict.fromkeys(a.handle for a in authors)),
        tags=tuple(t.get("term") or t.get("label") or "" for t in entry.get("tags") or []),
    )
