"""Markdown and imported HTML to safe, stored HTML.

Bodies are rendered when they are saved, never when a page is read, so the
parser, highlighter and sanitiser are imported on first use: a worker that only
serves readers does not carry them (about 4 MB of every worker's memory).
"""

import html
import math
import re
from functools import cache

WORDS_PER_MINUTE = 230

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup",
    "dd", "del", "details", "div", "dl", "dt", "em", "figcaption", "figure", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q",
    "s", "samp", "section", "small", "span", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href", "hreflang"},
    "img": {"src", "alt", "width", "height", "loading"},
    "th": {"scope", "colspan", "rowspan", "align", "style"},
    "td": {"colspan", "rowspan", "align", "style"},
    "ol": {"start", "reversed"},
    "code": {"data-lang"},
}
_TABLE = re.compile(r"<table>(.*?)</table>", re.S)
_TAGS = re.compile(r"<[^>]+>")
_PRE = re.compile(r"<pre(\s|>)")
_H1 = re.compile(r"<(/?)h1\b", re.I)


@cache
def _formatter():
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(nowrap=True)


def _highlight(code: str, lang: str, _attrs: str) -> str:
    from pygments import highlight
    from pygments.lexers import get_lexer_by_name, guess_lexer
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(lang) if lang else guess_lexer(code)
    except ClassNotFound:
        return ""  # markdown-it then escapes the code itself
    # Starting with <pre tells markdown-it to use this markup as it is.
    name = html.escape(lexer.aliases[0] if lexer.aliases else lang)
    body = highlight(code, lexer, _formatter())
    return f'<pre class="highlight"><code class="language-{name}">{body}</code></pre>'


@cache
def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin

    return (
        MarkdownIt("commonmark", {"html": True, "typographer": True, "highlight": _highlight})
        .enable(["table", "strikethrough"])
        .use(footnote_plugin)
    )


def sanitize_html(dirty: str) -> str:
    """Keep structure, code highlighting and tables; drop scripts, handlers, bad URLs."""
    import nh3

    clean = nh3.clean(
        dirty,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        filter_style_properties={"text-align"},
    )
    # Wide tables and code scroll inside their own box; tabindex lets keyboard
    # users scroll them too.
    clean = _PRE.sub(r'<pre tabindex="0"\1', clean)
    return _TABLE.sub(r'<div class="table-scroll" tabindex="0"><table>\1</table></div>', clean)


def render_markdown(source: str) -> str:
    # The page title is the only h1; headings in the body start at h2.
    return sanitize_html(_H1.sub(r"<\1h2", _markdown().render(source or "")))


def render_body(source: str, fmt: str = "markdown") -> str:
    if fmt == "html":
        return sanitize_html(_H1.sub(r"<\1h2", source or ""))
    return render_markdown(source)


def plain_text(rendered_html: str) -> str:
    return html.unescape(_TAGS.sub(" ", rendered_html))


def reading_minutes(rendered_html: str) -> int:
    words = len(plain_text(rendered_html).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def pygments_css(style: str) -> str:
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(style=style, cssclass="highlight").get_style_defs(".highlight")
