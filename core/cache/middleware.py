"""Serve anonymous reader pages from the page store, before the rest of the stack.

Views opt in by setting `response.cache_tags` (see core.cache.tags); nothing
else is ever stored. A hit costs one store read and no database query. Under
gunicorn, core.cache.wsgi answers hits even earlier; this middleware then only
sees misses (and serves hits itself under the test client or ASGI).
"""

from __future__ import annotations

import hashlib
import logging
from functools import cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date
from django.utils.module_loading import import_string

from core.cache import page
from core.cache.store import get_store

log = logging.getLogger(__name__)

# Set by the WSGI fast path after a miss: the lookup is done, here is the token.
ENVIRON_GENERATION = "blogsite.page_cache_generation"


@cache
def _ttl_cap():
    """PAGE_CACHE_TTL_CAP: a callable giving the seconds until cached pages must
    change by themselves (a scheduled post going live), or None."""
    path = getattr(settings, "PAGE_CACHE_TTL_CAP", None)
    return import_string(path) if path else (lambda: None)


def cache_headers(response: HttpResponse, ttl: int) -> None:
    if not response.has_header("ETag"):
        response["ETag"] = f'"{hashlib.blake2b(response.content, digest_size=12).hexdigest()}"'
    if not response.has_header("Last-Modified"):
        response["Last-Modified"] = http_date()
    # Browsers revalidate every time (a 304 is cheap); a CDN may keep it for `ttl`.
    response["Cache-Control"] = (
        f"public, max-age=0, s-maxage={ttl}, "
        f"stale-while-revalidate={settings.CACHE_STALE_WHILE_REVALIDATE}"
    )
    # The same URL differs for a logged-in reader: shared caches must key on cookies.
    patch_vary_headers(response, ["Cookie"])
    tags = " ".join(sorted(response.cache_tags))
    response["Cache-Tag"] = tags
    response["Surrogate-Key"] = tags


def to_response(stored: page.Stored) -> HttpResponse:
    return HttpResponse(stored.body, status=stored.status, headers=stored.headers)


class PageCacheMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        environ = request.META
        if not page.is_cacheable(environ):
            response = self.get_response(request)
            if getattr(response, "cache_tags", None) is not None:
                # A reader page shown to someone logged in: never share it.
                response["Cache-Control"] = "private, no-cache"
            return response

        if ENVIRON_GENERATION in environ:
            token = environ[ENVIRON_GENERATION]
        else:
            stored, token = page.lookup(environ)
            if stored is not None:
                return to_response(page.answer(environ, stored, "hit"))

        response = self.get_response(request)
        if getattr(response, "cache_tags", None) is None or response.status_code != 200:
            return response
        if response.cookies or (getattr(request, "user", None) and request.user.is_authenticated):
            response["Cache-Control"] = "private, no-cache"
            return response
        return self.store(environ, response, token)

    def store(self, environ: dict, response: HttpResponse, token: int | None) -> HttpResponse:
        ttl = settings.CACHE_TTL
        wait = _ttl_cap()()
        if wait is not None:
            ttl = min(ttl, wait)  # the page must change when the post goes live
        cache_headers(response, ttl)
        label = "unavailable"
        if token is not None:
            store = get_store()
            payload = page.pack(
                ttl=ttl, status=200, headers=list(response.items()), body=response.content
            )
            try:
                stored = store.set(
                    page.key(environ), payload, tags=response.cache_tags, ttl=ttl, token=token
                )
                label = "miss" if stored else "skip"
            except store.errors as exc:
                log.warning("page cache store failed: %s", exc)
        if label == "skip":
            # An edit committed while this page rendered: it may show the old
            # rows, so no edge (Varnish, CDN) may keep it either.
            response["Cache-Control"] = "no-cache"
        response["X-Page-Cache"] = label
        headers = list(response.items())
        if page.not_modified(environ, headers):
            return to_response(page.answer(environ, page.Stored(200, headers, b""), label))
        return response
