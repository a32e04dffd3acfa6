"""Serve anonymous reader pages from the page store, before the rest of the stack.

Views opt in by setting `response.cache_tags` (see posts.cache.tags); nothing
else is ever stored. A hit costs one store read and no database query.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags

from posts.cache.store import get_store

log = logging.getLogger(__name__)

BYPASS_PREFIXES = ("/admin/", "/static/", "/media/", "/healthz", "/readyz")
# Headers a cached copy may repeat to everyone.
STORED_HEADERS_SKIP = {"set-cookie", "x-page-cache"}


def request_is_cacheable(request: HttpRequest) -> bool:
    return (
        settings.PAGE_CACHE_ENABLED
        and request.method in ("GET", "HEAD")
        and not request.path.startswith(BYPASS_PREFIXES)
        # A session or CSRF cookie means someone who may see something personal.
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and settings.CSRF_COOKIE_NAME not in request.COOKIES
    )


def page_path(request: HttpRequest) -> str:
    return request.get_full_path()


def seconds_until_next_scheduled_post() -> int | None:
    from posts.models import Post

    when = Post.objects.scheduled().order_by("published_at").values_list("published_at", flat=True)
    first = when.first()
    if first is None:
        return None
    return max(1, int((first - datetime.now(UTC)).total_seconds()) + 1)


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


def not_modified(request: HttpRequest, etag: str, last_modified: str | None) -> bool:
    inm = request.META.get("HTTP_IF_NONE_MATCH")
    if inm:
        tags = parse_etags(inm)
        return "*" in tags or etag in tags or etag.removeprefix("W/") in tags
    ims = request.META.get("HTTP_IF_MODIFIED_SINCE")
    return bool(ims and last_modified and ims == last_modified)


def unpack(payload: bytes) -> tuple[int, dict, bytes] | None:
    """The stored response, or None once it is past its time.

    Redis expires entries too; checking here as well keeps the expiry exact
    under clock-frozen tests and across hosts whose Redis TTLs drift."""
    expires, status, headers, body = pickle.loads(payload)  # noqa: S301 - written only by us
    if time.time() >= expires:
        return None
    return status, headers, body


def response_from_stored(
    request: HttpRequest, status: int, headers: dict, body: bytes, label: str = "hit"
) -> HttpResponse:
    if not_modified(request, headers.get("ETag", ""), headers.get("Last-Modified")):
        response = HttpResponseNotModified()
        for name in ("ETag", "Last-Modified", "Cache-Control", "Vary"):
            if name in headers:
                response[name] = headers[name]
    else:
        response = HttpResponse(
            b"" if request.method == "HEAD" else body, status=status, headers=headers
        )
    response["X-Page-Cache"] = label
    return response


class PageCacheMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request_is_cacheable(request):
            response = self.get_response(request)
            if getattr(response, "cache_tags", None) is not None:
                # A reader page shown to someone logged in: never share it.
                response["Cache-Control"] = "private, no-cache"
            return response

        store = get_store()
        path = page_path(request)
        token = None
        try:
            payload = store.get(path)
            stored = unpack(payload) if payload is not None else None
            if stored is not None:
                return response_from_stored(request, *stored)
            token = store.token()
        except store.errors as exc:
            log.warning("page cache unavailable, serving uncached: %s", exc)

        response = self.get_response(request)
        if getattr(response, "cache_tags", None) is None or response.status_code != 200:
            return response
        if response.cookies or (getattr(request, "user", None) and request.user.is_authenticated):
            response["Cache-Control"] = "private, no-cache"
            return response

        ttl = settings.CACHE_TTL
        wait = seconds_until_next_scheduled_post()
        if wait is not None:
            ttl = min(ttl, wait)  # the page must change when the post goes live
        cache_headers(response, ttl)
        if token is not None:
            headers = {k: v for k, v in response.items() if k.lower() not in STORED_HEADERS_SKIP}
            payload = pickle.dumps(
                (time.time() + ttl, response.status_code, headers, response.content), protocol=5
            )
            try:
                stored = store.set(path, payload, tags=response.cache_tags, ttl=ttl, token=token)
            except store.errors as exc:
                log.warning("page cache store failed: %s", exc)
                stored = False
            response["X-Page-Cache"] = "miss" if stored else "skip"
        else:
            response["X-Page-Cache"] = "unavailable"
        if not_modified(request, response["ETag"], response["Last-Modified"]):
            return response_from_stored(
                request, 200, dict(response.items()), b"", label=response["X-Page-Cache"]
            )
        return response
