"""One log line per request, for Django's responses and the WSGI cache hits alike.

Both paths end in `log_request`, so a line has the same fields and goes through
the same logger (`blogsite.request`, formatted as JSON or text by settings.LOGGING)
whichever layer answered. gunicorn's own access log is off by default, so each
request is logged once.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

log = logging.getLogger("blogsite.request")

# Kept in the environ (which is also request.META), so the WSGI layer and the
# middleware agree on one id and one start time.
ENVIRON_ID = "blogsite.request_id"
ENVIRON_START = "blogsite.request_start"
HEADER = "X-Request-ID"
# Ids from a proxy or a client: short and printable, so they cannot forge log
# lines or bloat them; anything else is replaced.
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(environ: dict) -> str:
    """The request's id: a valid incoming X-Request-ID, else a fresh uuid4 hex."""
    rid = environ.get(ENVIRON_ID)
    if rid is None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if given and _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        environ[ENVIRON_ID] = rid
    return rid


def log_request(
    environ: dict,
    *,
    start: float,
    status: int,
    cache: str | None,
    size: int | None,
    user_id: int | None = None,
) -> None:
    """One INFO record carrying every field of the line; one logger call per request."""
    if not log.isEnabledFor(logging.INFO):
        return
    fields = {
        "request_id": request_id(environ),
        "method": environ.get("REQUEST_METHOD", ""),
        "path": environ.get("PATH_INFO", ""),
        "status": status,
        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
        # No X-Page-Cache header: the page cache neither answered nor stored it.
        "cache": cache or "skip",
        "bytes": size,
        "user_id": user_id,
    }
    # makeRecord + handle is what log.info() does, minus the walk up the stack to
    # find the caller's file and line: the same place every time, and a cost on every hit.
    log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, "request", None, None,
                              extra=fields))  # fmt: skip


def _user_id(request: HttpRequest) -> int | None:
    user = getattr(request, "user", None)  # absent when a middleware hit answered first
    return user.pk if user is not None and user.is_authenticated else None


class RequestLogMiddleware:
    """First in MIDDLEWARE: sees every response Django makes, errors and cache hits included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        environ = request.META
        # Started at the WSGI layer when it ran first (gunicorn), else now.
        start = environ.get(ENVIRON_START) or time.perf_counter()
        rid = request_id(environ)
        response = self.get_response(request)
        response[HEADER] = rid
        size = None if response.streaming else len(response.content)
        log_request(
            environ,
            start=start,
            status=response.status_code,
            cache=response.get("X-Page-Cache"),
            size=size,
            user_id=_user_id(request),
        )
        return response
