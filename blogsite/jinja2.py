"""The Jinja2 environment of the reader pages (templates/, except admin/).

The globals and filters are the functions the Django templates used, called the
same way, so a page renders the same bytes with either engine: the helpers of
posts/templatetags/blog.py and pictures.py, Django's own `date`, `pluralize` and
`floatformat` filters (with the localtime conversion Django's engine applies
before `date`), `static` and `url`. The admin stays on Django templates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaultfilters
from django.templatetags.static import static as static_url
from django.urls import reverse
from django.utils.timezone import template_localtime

from posts import cards
from posts.templatetags import blog, pictures

# What changes the URL `static()` answers for a path.
_STATIC_SETTINGS = {"STATIC_URL", "STORAGES", "STATICFILES_DIRS", "STATIC_ROOT"}


@lru_cache(maxsize=256)
def static(path: str) -> str:
    """`{% static %}`: the storage's URL for `path`, looked up once per process
    (a manifest lookup costs ~20 µs and base.html asks for four on every page)."""
    return static_url(path)


@receiver(setting_changed)
def _forget_static_urls(*, setting: str, **kwargs: Any) -> None:
    if setting in _STATIC_SETTINGS:
        static.cache_clear()


def url(name: str, *args: Any, **kwargs: Any) -> str:
    """`{% url %}`: reverse a URL name with positional or keyword arguments."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value: Any, arg: str | None = None) -> str:
    """`|date`, in the current time zone, as Django's engine renders it."""
    return defaultfilters.date(template_localtime(value), arg)


def iso_day(value: Any) -> str:
    """The local calendar day of a date or datetime, YYYY-MM-DD (a sitemap's lastmod):
    what `|date("Y-m-d")` writes, without the general formatter (a sitemap page
    formats a thousand of them)."""
    if value is None or value == "":
        return ""
    local = template_localtime(value)
    return (local.date() if hasattr(local, "date") else local).isoformat()


class Missing(jinja2.ChainableUndefined):
    """A missing variable or attribute (even one of a missing one) renders as ""
    and is false, and comparing it is false: as in Django's engine, never an error."""

    __slots__ = ()

    def _false(self, other: Any) -> bool:
        return False

    __lt__ = __le__ = __gt__ = __ge__ = _false


class ReaderLoader(jinja2.FileSystemLoader):
    """templates/ without admin/: those are Django templates, for Django's engine
    (tried after this one, so a name this loader refuses reaches it)."""

    def get_source(self, environment: jinja2.Environment, template: str):
        if template.startswith("admin/"):
            raise jinja2.TemplateNotFound(template)
        return super().get_source(environment, template)

    def list_templates(self) -> list[str]:
        return [name for name in super().list_templates() if not name.startswith("admin/")]


def environment(**options: Any) -> jinja2.Environment:
    options["undefined"] = Missing  # the backend's DEBUG default prints {{ name }}
    loader = options["loader"]  # the backend's FileSystemLoader over DIRS
    options["loader"] = ReaderLoader(loader.searchpath, loader.encoding, loader.followlinks)
    env = jinja2.Environment(**options)  # noqa: S701 - the backend turns autoescape on
    env.globals.update(
        static=static,
        url=url,
        page_url=blog.page_url,
        post_json_ld=blog.post_json_ld,
        picture_data=pictures.picture_data,
        # Card macros, rendered once per content (posts/cards.py).
        post_card=cards.post_card,
        author_card=cards.author_card,
        result_details=cards.result_details,
    )
    env.filters.update(
        absolute=blog.absolute,
        date=date,
        floatformat=defaultfilters.floatformat,
        initials=blog.initials,
        iso_datetime=blog.iso_datetime,
        iso_day=iso_day,
        pluralize=defaultfilters.pluralize,
        search_snippet=blog.search_snippet,
        share_url=pictures.share_url,
    )
    return env
