import pytest

from core.rendering import reading_minutes, render_body, render_markdown, sanitize_html


def test_code_fences_are_highlighted_with_pygments():
    html = render_markdown("```python\ndef f():\n    return 1\n```")
    assert '<pre tabindex="0" class="highlight"><code class="language-python">' in html
    assert '<span class="k">def</span>' in html


def test_tables_render_inside_a_scroll_box():
    html = render_markdown("| a | b |\n| - | - |\n| 1 | 2 |")
    assert '<div class="table-scroll" tabindex="0"><table>' in html
    assert "<td>1</td>" in html


def test_body_headings_start_at_h2():
    assert render_markdown("# Big") == "<h2>Big</h2>\n"


@pytest.mark.parametrize(
    "dirty",
    [
        "<script>alert('x')</script>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="javascript:alert(1)">click</a>',
        "[click](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)" onclick="alert(2)">x</a>',
        '<div onmouseover="alert(1)">hover</div>',
        "<iframe src='https://evil.example'></iframe>",
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_scripts_javascript_links_and_event_handlers_never_survive(dirty):
    for html in (render_markdown(dirty), render_body(dirty, "html")):
        lowered = html.lower()
        assert "<script" not in lowered
        assert "javascript:" not in lowered or "href" not in lowered
        assert 'href="javascript' not in lowered
        assert " on" not in lowered.replace(" one", "")
        assert "<iframe" not in lowered
        assert "<svg" not in lowered


def test_sanitizer_keeps_safe_links_with_rel():
    html = sanitize_html('<a href="https://example.com/">ok</a>')
    assert 'href="https://example.com/"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_reading_minutes_counts_words_not_markup():
    html = render_markdown("<b>bold</b> " * 231)
    assert reading_minutes(html) == 2
    assert reading_minutes("") == 1


def test_scrollable_code_and_tables_are_keyboard_focusable():
    html = render_markdown("```python\nx = 1\n```\n\n| a |\n| - |\n| 1 |\n\n    indented code")
    assert html.count('<pre tabindex="0"') == 2
    assert '<div class="table-scroll" tabindex="0">' in html


def test_authors_cannot_inject_their_own_tabindex():
    assert "tabindex" not in render_markdown('<p tabindex="5">x</p>')
