"""The Jinja2 environment of the reader pages (blogsite/jinja2.py) renders what
Django's engine did: local dates, "" for anything missing, current static URLs."""

from __future__ import annotations

from datetime import UTC, datetime

from django.template import engines
from django.utils import timezone


def render(source: str, **context) -> str:
    return engines["jinja2"].from_string(source).render(context)


def test_dates_are_shown_in_the_sites_time_zone(settings):
    settings.TIME_ZONE = "Europe/Paris"
    late = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # already next year in Paris

    with timezone.override("Europe/Paris"):
        shown = render('{{ at|date("M j, Y, H:i T") }} {{ at|iso_datetime }}', at=late)

    assert shown == "Jan 1, 2027, 00:30 CET 2027-01-01T00:30:00+01:00"
    assert render('{{ nothing|date("M j, Y") }}', nothing=None) == ""


def test_anything_missing_renders_empty_and_false_as_in_djangos_engine():
    assert render("[{{ missing }}][{{ missing.attr.deeper }}][{{ none.attr }}]", none=None) == (
        "[][][]"
    )
    assert render("{% if missing.number > 1 %}yes{% else %}no{% endif %}") == "no"
    assert render("{{ (missing or 0)|pluralize }}") == "s"


def test_pluralize_and_floatformat_are_djangos():
    assert render("{{ 1|pluralize }}|{{ 2|pluralize }}|{{ 2.5|floatformat('-1') }}") == "|s|2.5"
    assert render("{{ 15.0|floatformat('-1') }}") == "15"


def test_static_urls_follow_a_change_of_static_url(settings):
    """static() answers from a per-process cache, which a settings change empties."""
    assert render("{{ static('css/site.css') }}") == "/static/css/site.css"

    settings.STATIC_URL = "/assets/"

    assert render("{{ static('css/site.css') }}") == "/assets/css/site.css"


def test_text_is_escaped_and_safe_html_is_not():
    assert render("{{ title }}", title="<b>&") == "&lt;b&gt;&amp;"
    assert render("{{ body|safe }}", body="<p>ok</p>") == "<p>ok</p>"


def test_reader_templates_are_jinja2_and_admin_templates_stay_djangos():
    from django.template.loader import get_template

    assert get_template("base.html").backend.name == "jinja2"
    assert get_template("posts/post_detail.html").backend.name == "jinja2"
    # templates/admin/ is in the same folder, but only Django's engine reads it.
    assert get_template("admin/index.html").backend.name == "django"
    assert "admin/index.html" not in engines["jinja2"].env.list_templates()


def test_iso_day_is_the_local_calendar_day_as_djangos_date_filter_writes_it(settings):
    from blogsite.jinja2 import iso_day

    settings.TIME_ZONE = "Asia/Tokyo"
    late = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)  # already Jan 1 in Tokyo
    with timezone.override("Asia/Tokyo"):
        assert iso_day(late) == render('{{ at|date("Y-m-d") }}', at=late) == "2027-01-01"
    assert iso_day(late.date()) == "2026-12-31"
    assert iso_day(None) == ""
