"""One sanitising policy (core.rendering, nh3) for every path that turns user or
imported content into HTML: Markdown post bodies, imported HTML bodies and author
bios. A corpus of XSS payloads, and random and mutated input (hypothesis), never
leave anything executable and never make rendering raise."""

from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.rendering import render_body, render_markdown
from posts.tests.factories import AuthorFactory, PostFactory
from posts.tests.xss_corpus import HTML_PAYLOADS, MARKDOWN_PAYLOADS, executable_parts

EVERY_PAYLOAD = HTML_PAYLOADS + MARKDOWN_PAYLOADS


# Payloads that are inert even unsanitised (text, or a relative URL).
INERT = {
    '<IMG SRC=`javascript:alert("XSS")`>',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
}
# Malformed markup Python's parser reads differently from a browser. The audit
# runs on nh3's output, which is always re-serialised well-formed, so it holds there.
MISREAD_RAW = {
    "<img/src=x/onerror=alert(1)>",
    "<!--><img src=x onerror=alert(1)>-->",
    "<img src=x onerror=alert(1)//",
}


def test_the_audit_finds_what_a_browser_would_run():
    """The checks below can fail: every raw payload but the inert ones is flagged."""
    unflagged = {p for p in HTML_PAYLOADS if not executable_parts(p)}

    assert unflagged == INERT | MISREAD_RAW
    assert executable_parts('<p><a href="https://ok.example/">ok</a></p>') == []


@pytest.mark.parametrize("payload", EVERY_PAYLOAD)
def test_markdown_bodies_keep_nothing_executable(payload):
    rendered = render_markdown(f"Intro paragraph.\n\n{payload}\n\nOutro *paragraph*.")

    assert executable_parts(rendered) == [], rendered
    assert rendered.startswith("<p>Intro paragraph.</p>")


@pytest.mark.parametrize("payload", HTML_PAYLOADS)
def test_imported_html_bodies_keep_nothing_executable(payload):
    rendered = render_body(f"<p>Intro</p>{payload}<p>Outro</p>", "html")

    assert executable_parts(rendered) == [], rendered


@pytest.mark.django_db
def test_stored_post_bodies_and_author_bios_keep_nothing_executable(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The render functions take the whole corpus above; here, that saving uses them.
    for payload in EVERY_PAYLOAD[::4]:
        payload = payload.replace("\x00", "")  # PostgreSQL text cannot hold NUL; forms refuse it
        post = PostFactory(body=payload, body_format="markdown")
        imported = PostFactory(body=payload, body_format="html")
        author = AuthorFactory(bio=payload)

        for where, rendered in [
            ("markdown post", post.body_html),
            ("html post", imported.body_html),
            ("author bio", author.bio_html),
        ]:
            assert executable_parts(rendered) == [], (where, payload, rendered)


def test_safe_markup_is_kept():
    rendered = render_markdown(
        'A [link](https://example.com/ "t"), `code`, **bold**.\n\n'
        "| a | b |\n| :-- | --: |\n| 1 | 2 |\n\n![alt](https://example.com/i.png)"
    )

    assert (
        '<a href="https://example.com/" title="t" rel="noopener noreferrer nofollow">' in rendered
    )
    assert '<td style="text-align:right">2</td>' in rendered
    assert '<img src="https://example.com/i.png" alt="alt">' in rendered


FRAGMENTS = st.sampled_from(
    [*EVERY_PAYLOAD, "<", ">", '"', "'", "&", "&#", ";", "=", "`", "javascript:", "on",
       "error", "\x00", "\n", "\n\n", "```", "[", "](", ")", "<a href=", "<img src=", "<svg",
       "<math", "style=", "expression(", "url(", " ", "\t", "&#x3A;", "&colon;", "|", "---"]
)  # fmt: skip
MUTATED = st.lists(FRAGMENTS, max_size=12).map("".join)
ANY_TEXT = st.text(max_size=300)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.one_of(MUTATED, ANY_TEXT, st.tuples(ANY_TEXT, MUTATED).map("".join)))
def test_markdown_never_raises_and_never_keeps_anything_executable(source):
    rendered = render_markdown(source)

    assert isinstance(rendered, str)
    assert executable_parts(rendered) == [], (source, rendered)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.one_of(MUTATED, ANY_TEXT))
def test_imported_html_never_raises_and_never_keeps_anything_executable(source):
    rendered = render_body(source, "html")

    assert executable_parts(rendered) == [], (source, rendered)


@pytest.mark.django_db
def test_feed_bodies_keep_nothing_executable(client, settings):
    """Feeds make body URLs absolute after sanitising: that must not revive anything."""
    settings.PAGE_CACHE_ENABLED = False
    for n, payload in enumerate(EVERY_PAYLOAD[1::6]):
        PostFactory(slug=f"hostile-{n}", body=payload.replace("\x00", ""), body_format="html")

    items = client.get("/feed.json").json()["items"]
    rss = ElementTree.fromstring(client.get("/feed/").content)  # noqa: S314 - our own output
    atom = ElementTree.fromstring(client.get("/feed/atom/").content)  # noqa: S314
    bodies = [i["content_html"] for i in items]
    bodies += [e.text or "" for e in rss.iter("{http://purl.org/rss/1.0/modules/content/}encoded")]
    bodies += [e.text or "" for e in atom.iter("{http://www.w3.org/2005/Atom}content")]

    assert len(bodies) == 3 * len(EVERY_PAYLOAD[1::6])
    for body in bodies:
        assert executable_parts(body) == [], body
