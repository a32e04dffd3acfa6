"""Text helpers shared by the feed and WXR readers."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import slugify

from core.rendering import plain_text, sanitize_html

SUMMARY_CHARS = 160
TITLE_CHARS = 60
_BLOCK_COMMENT = re.compile(r"\s*<!--\s*/?wp:.*?-->\s*", re.S)
_url = URLValidator(schemes=["http", "https"])


def drop_block_comments(body: str) -> str:
    """WordPress's block-editor markers (`<!-- wp:paragraph -->`) carry no content."""
    return _BLOCK_COMMENT.sub("\n", body).strip() if "wp:" in body else body


def text_of(fragment: str) -> str:
    """Readable text of an HTML fragment, on one line."""
    return " ".join(plain_text(sanitize_html(fragment)).split())


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def handle_for(name: str, email: str = "") -> str:
    """An author handle (slug) for a feed author's name, login or email."""
    return (slugify(name) or slugify(email.split("@")[0]) or "imported")[:60].strip("-")


def clean_url(url: str) -> str:
    """`url` when it is a valid http(s) URL that fits a URLField, else ""."""
    url = (url or "").strip()
    if not url or len(url) > 500:
        return ""
    try:
        _url(url)
    except ValidationError:
        return ""
    return url


def path_of(url: str) -> str:
    """The path of `url` as Django's request.path shows it; "" for the site root."""
    path = unquote(urlsplit(url or "").path)
    return "" if path in ("", "/") else path[:500]
