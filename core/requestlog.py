"""One log line per request, for Django's responses and the WSGI cache hits alike.

Both paths end in `log_request`, so a line has the same fields and goes through
the same logger (`blogsite.request`, formatted as JSON or text by settings.LOGGING)
whichever layer answered. gunicorn's own access log is off by default, so each
request is logged once.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

log = logging.getLogger("blogsite.request")

# Kept in the environ (which is also request.META), so the WSGI layer and the
# middleware agree on one id and one start time.
ENVIRON_ID = "blogsite.request_id"
ENVIRON_START = "blogsite.request_start"
HEADER = "X-Request-ID"
# The line's own fields, in the order they are written.
FIELDS = ("request_id", "method", "path", "status", "duration_ms", "cache", "bytes", "user_id")
# Ids from a proxy or a client: short and printable, so they cannot forge log
# lines or bloat them; anything else is replaced.
_VALID_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(environ: dict) -> str:
    """The request's id: a valid incoming X-Request-ID, else 128 fresh random bits in hex."""
    rid = environ.get(ENVIRON_ID)
    if rid is None:
        given = environ.get("HTTP_X_REQUEST_ID", "")
        rid = given if given and _VALID_ID.fullmatch(given) else os.urandom(16).hex()
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
    record = _RequestRecord(
        request_id(environ),
        environ.get("REQUEST_METHOD", ""),
        environ.get("PATH_INFO", ""),
        status,
        round((time.perf_counter() - start) * 1000, 2),
        # No X-Page-Cache header: the page cache neither answered nor stored it.
        cache or "skip",
        size,
        user_id,
    )
    log.handle(record)


class _RequestRecord(logging.LogRecord):
    """The request line's record, built without the caller, thread and process
    lookups `LogRecord.__init__` makes: the same for every line, and a cost on every
    hit. It has every attribute a formatter or filter may read (in its __dict__,
    where %-style formats look)."""

    def __init__(self, *values) -> None:
        self.__dict__.update(_CONSTANT)
        self.__dict__.update(zip(FIELDS, values, strict=True))  # values: the FIELDS, in order
        self.created = now = time.time()
        self.msecs = (now - int(now)) * 1000
        self.relativeCreated = (now - logging._startTime) * 1000


# The attributes of every request record that do not vary from line to line.
_CONSTANT = {
    "name": log.name, "msg": "request", "args": (), "levelno": logging.INFO,
    "levelname": "INFO", "pathname": __file__, "filename": "requestlog.py",
    "module": "requestlog", "funcName": "log_request", "lineno": 0, "exc_info": None,
    "exc_text": None, "stack_info": None, "thread": None, "threadName": None,
    "taskName": None, "process": None, "processName": None,
}  # fmt: skip

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


class JSONFormatter(logging.Formatter):
    """The request line as one JSON object: level, logger, message, FIELDS, time.

    The same keys python-json-logger writes for the other loggers, at a fraction
    of its cost (it inspects every record attribute to find the extras; these
    are known)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"level": record.levelname, "logger": record.name, "message": record.getMessage()}
        for name in FIELDS:
            line[name] = getattr(record, name, None)
        line["time"] = datetime.fromtimestamp(record.created, UTC).isoformat()
        return _encode(line)


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
