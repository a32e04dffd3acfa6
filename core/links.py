"""Paths of slugged objects, without a full reverse() for every link.

A listing page links each post, tag and author several times; reversing once
per URL name and filling in the slug keeps that cost flat. Slugs are already
URL-safe ([-a-zA-Z0-9_]), so no quoting is needed.
"""

from functools import cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse

_SLOT = "__slot__"  # matches the slug converter, never a real slug's whole value


@cache
def _template(name: str, kwarg: str, script_prefix: str) -> str:
    return reverse(name, kwargs={kwarg: _SLOT})


def slug_path(name: str, kwarg: str, value: str) -> str:
    return _template(name, kwarg, get_script_prefix()).replace(_SLOT, value, 1)


@receiver(setting_changed)
def _urlconf_changed(setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _template.cache_clear()


def site_url(path: str) -> str:
    """`path` as an absolute URL on this site (feeds, sitemap, canonical links)."""
    return f"{settings.SITE_URL}{path}"
