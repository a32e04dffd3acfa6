"""Bounds on what one client may ask of the site: request rate and body size.

Each refusal is a small readable page with the exact status: 429 (with
Retry-After) for too many requests, 413 for a body over the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import defaults
from django_ratelimit.core import get_usage


def too_many_requests(request: HttpRequest, *, retry_after: int) -> HttpResponse:
    response = render(request, "429.html", {"retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def rate_limited(request: HttpRequest, *, group: str, rate: str) -> HttpResponse | None:
    """Count this request against the client's `rate` ("30/m") for `group`; the
    429 response once it is over, else None.

    Counted per client IP in the default cache (Redis). When the cache is
    unreachable the request is let through (RATELIMIT_FAIL_OPEN): an outage
    must not turn every search into a refusal."""
    usage = get_usage(request, group=group, key="ip", rate=rate, increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return too_many_requests(request, retry_after=max(1, usage["time_left"]))


def payload_too_large(request: HttpRequest) -> HttpResponse:
    limit = settings.REQUEST_BODY_MAX_BYTES
    response = render(request, "413.html", {"limit_mb": limit / (1024 * 1024)}, status=413)
    response["Cache-Control"] = "no-store"
    return response


class RequestBodyLimitMiddleware:
    """Refuse a request whose declared body is over REQUEST_BODY_MAX_BYTES before
    anything reads it. Bodies within that but with more form data than
    DATA_UPLOAD_MAX_MEMORY_SIZE are caught by `bad_request` below."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django answers a malformed length itself
        if length > settings.REQUEST_BODY_MAX_BYTES:
            return payload_too_large(request)
        return self.get_response(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler400: Django reports an oversized body as a 400; it is a 413."""
    if isinstance(exception, RequestDataTooBig):
        return payload_too_large(request)
    return defaults.bad_request(request, exception)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: too many failed sign-ins for this account from this
    address. A 429 saying so plainly, with how long the lock lasts."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else None
    response = render(
        request,
        "locked_out.html",
        {"minutes": -(-seconds // 60) if seconds else None},
        status=429,
    )
    if seconds:
        response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response
