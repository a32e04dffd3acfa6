"""Template helpers for the reader pages: absolute URLs, JSON-LD, page links, snippets.

The reader pages (Jinja2) get these from blogsite/jinja2.py; the filters stay
registered here too for the admin's Django templates (`{% load blog %}`)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.cache.page import params_read
from core.links import site_url
from posts.models import Post
from posts.selectors import MARK_START, MARK_STOP

register = template.Library()

# Inside <script>, "</script>" or "<!--" in a title would end the data early.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_STOP}", re.S)
# Markdown punctuation that reads as noise in a plain-text snippet.
_MARKDOWN_NOISE = re.compile(r"```\w*|^#{1,6}\s|[|*`>]{1,3}|\[\^?\d+\]", re.M)


@register.filter
def absolute(url: str) -> str:
    """A site-relative URL made absolute with SITE_URL (for canonical, og:, JSON-LD)."""
    return site_url(url) if url and url.startswith("/") else url


@register.filter
def iso_datetime(value: datetime | date | None) -> str:
    """A `datetime=` / `content=` value: ISO 8601 to the second, with its offset.

    `|date:'c'` keeps microseconds, and HTML allows at most three digits of a
    second's fraction, so every page carrying it failed validation."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(microsecond=0).isoformat()


@register.filter
def file_url(field) -> str:
    """An image field's URL, or "" when no file is set (`.url` would raise)."""
    return field.url if field else ""


def dump_json_for_script(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False).translate(_JSON_SCRIPT_ESCAPES)


def post_structured_data(post: Post, canonical_url: str) -> dict[str, Any]:
    """schema.org BlogPosting for `post` (card data prefetched)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": post.summary,
        "author": [
            {
                "@type": "Person",
                "name": a.author.display_name,
                "url": absolute(a.author.get_absolute_url()),
            }
            for a in post.authorships.all()
        ],
        "datePublished": iso_datetime(post.published_at) or None,
        "dateModified": iso_datetime(post.updated_at),
        "keywords": [pt.tag.name for pt in post.post_tags.all()],
        "mainEntityOfPage": {"@type": "WebPage", "@id": canonical_url},
        "url": absolute(post.get_absolute_url()),
        "publisher": {
            "@type": "Organization",
            "name": settings.SITE_NAME,
            "url": f"{settings.SITE_URL}/",
        },
    }
    if post.cover_image:
        data["image"] = absolute(post.cover_image.url)
    return {k: v for k, v in data.items() if v not in (None, "", [])}


@register.simple_tag
def post_json_ld(post: Post, canonical_url: str) -> SafeString:
    payload = dump_json_for_script(post_structured_data(post, canonical_url))
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')  # noqa: S308 - escaped above


def page_url(request: HttpRequest, number: int) -> str:
    """Page `number` of this listing: the query parameters its view reads, with
    `page` set (dropped for page 1). Parameters the visitor arrived with that the
    view ignores (utm_*) are left out, so every visitor gets the same bytes and
    the page cache can serve them all one entry."""
    params = QueryDict(mutable=True)
    for name in sorted(params_read(request.path_info) - {"page"}):
        if value := request.GET.get(name):
            params[name] = value
    if number > 1:
        params["page"] = str(number)
    query = params.urlencode()
    return f"?{query}" if query else request.path


@register.filter
def search_snippet(snippet: str | None) -> SafeString:
    """A ts_headline snippet: text escaped, matches in <mark>, Markdown syntax dropped."""
    if not snippet or MARK_START not in snippet:
        return mark_safe("")
    text = _MARKDOWN_NOISE.sub(" ", snippet)
    text = re.sub(r"\s+", " ", text).strip()
    parts = []
    last = 0
    for match in _MARKED.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(f"<mark>{escape(match.group(1))}</mark>")
        last = match.end()
    parts.append(escape(text[last:]))
    # Unpaired markers (text that happened to contain one) are dropped.
    return mark_safe("".join(parts).replace(MARK_START, "").replace(MARK_STOP, ""))  # noqa: S308


@register.filter
def initials(name: str) -> str:
    words = [w for w in (name or "").split() if w[:1].isalpha()]
    return "".join(w[0] for w in words[:2]).upper() or "?"
