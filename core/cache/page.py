"""What the page cache stores and how a stored page is answered.

Works on the WSGI environ (which is also `request.META`), so the WSGI fast
path (core.cache.wsgi) and the middleware share one lookup and one key.
"""

from __future__ import annotations

import logging
import pickle
import time
from functools import cache, lru_cache
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.core.handlers.wsgi import get_path_info
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve
from django.utils.http import parse_etags

from core.cache import near
from core.cache.store import get_store

log = logging.getLogger(__name__)

BYPASS_PREFIXES = ("/admin/", "/static/", "/media/", "/healthz", "/readyz")
# Response headers never repeated from a stored copy.
NOT_STORED = {"set-cookie", "x-page-cache", "content-length"}
NOT_MODIFIED_KEEPS = {"etag", "last-modified", "cache-control", "vary", "cache-tag"}


class Stored(NamedTuple):
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Config(NamedTuple):
    enabled: bool
    ssl_redirect: bool
    proxy_ssl_header: tuple[str, str] | None
    allowed_hosts: list[str]
    private_cookies: tuple[str, str]
    near_bytes: int


@cache
def _config() -> _Config:
    """The settings a lookup reads, once per process: every hit checks them."""
    return _Config(
        settings.PAGE_CACHE_ENABLED,
        settings.SECURE_SSL_REDIRECT,
        settings.SECURE_PROXY_SSL_HEADER,
        settings.ALLOWED_HOSTS,
        (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME),
        settings.PAGE_CACHE_NEAR_MB * 1024 * 1024,
    )


_checked_hosts: dict[str, bool] = {}


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _config.cache_clear()
    _checked_hosts.clear()
    params_read.cache_clear()


def _is_secure(environ: dict, config: _Config) -> bool:
    if config.proxy_ssl_header:
        header, secure_value = config.proxy_ssl_header
        if header in environ:
            return environ[header].split(",", 1)[0].strip() == secure_value
    return environ.get("wsgi.url_scheme") == "https"


def _host_allowed(environ: dict, config: _Config) -> bool:
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    allowed = _checked_hosts.get(host)
    if allowed is None:
        domain, _port = split_domain_port(host)
        allowed = bool(domain) and validate_host(domain, config.allowed_hosts)
        if len(_checked_hosts) < 64:  # a handful of real names; never grow unbounded
            _checked_hosts[host] = allowed
    return allowed


def is_cacheable(environ: dict) -> bool:
    """An anonymous GET/HEAD of a reader URL: the only requests looked up or stored."""
    config = _config()
    if not config.enabled or environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
        return False
    if environ.get("PATH_INFO", "/").startswith(BYPASS_PREFIXES):
        return False
    # Let Django answer what it would refuse or redirect: bad hosts, plain HTTP.
    if config.ssl_redirect and not _is_secure(environ, config):
        return False
    if not _host_allowed(environ, config):
        return False
    # A session or CSRF cookie means someone who may see something personal. A
    # substring test can only err towards bypassing, which is always safe.
    cookies = environ.get("HTTP_COOKIE", "")
    return not (cookies and any(name in cookies for name in config.private_cookies))


# Part of every key: bump it when the stored format changes, so a deploy never
# reads the previous release's entries.
FORMAT = "v2"


@lru_cache(maxsize=4096)  # paths are unbounded; the views behind them are few
def params_read(path_info: str) -> frozenset[str]:
    """The query parameters the view at `path_info` reads.

    A view declares them as `cache_query_params`; one that does not is assumed
    to read every name in PAGE_CACHE_QUERY_PARAMS, which can only over-key.
    No name outside that setting ever reaches a key."""
    allowed = frozenset(settings.PAGE_CACHE_QUERY_PARAMS)
    try:
        match = resolve(path_info)
    except Resolver404:
        return frozenset()
    view = getattr(match.func, "view_class", match.func)
    return allowed & frozenset(getattr(view, "cache_query_params", allowed))


PAGE_NUMBER_PARAMS = {"page", "p"}  # reader listings, sitemap sections


def _normal_value(name: str, value: str) -> str:
    if name in PAGE_NUMBER_PARAMS and value.isascii() and value.isdigit():
        # "01" and "1" are the same page; string work, no int() of 10**5000.
        value = value.lstrip("0") or "0"
        return "" if value == "1" else value
    return value


def normal_query(environ: dict) -> str:
    """The query string as the view sees it: only the names it reads, sorted,
    empty values and page 1 dropped, the last of repeated names (as
    `request.GET.get` does). `/?utm_source=x` and `/?page=1` become `/`."""
    query = environ.get("QUERY_STRING", "")
    if not query:
        return ""
    names = params_read(get_path_info(environ) or "/")
    if not names:
        return ""
    # latin-1 both ways: the key keeps the request's bytes whatever their encoding.
    pairs = dict(parse_qsl(query, encoding="latin-1"))
    kept = {n: _normal_value(n, pairs[n]) for n in sorted(names & pairs.keys())}
    return urlencode({n: v for n, v in kept.items() if v}, encoding="latin-1")


def key(environ: dict) -> str:
    """Pages differing only in parameters their view ignores (tracking tags,
    cache busters) share one key, so they cannot fill the store or force misses."""
    query = normal_query(environ)
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "/")
    return f"{FORMAT}:{path}?{query}" if query else f"{FORMAT}:{path}"


def pack(*, ttl: int, status: int, headers: list[tuple[str, str]], body: bytes) -> bytes:
    stored = [(k, v) for k, v in headers if k.lower() not in NOT_STORED]
    return pickle.dumps((time.time() + ttl, status, stored, body), protocol=5)


def unpack(payload: bytes) -> Stored | None:
    """The stored page, or None once it is past its time."""
    entry = _unpack_entry(payload)
    return entry[1] if entry is not None else None


def _unpack_entry(payload: bytes) -> tuple[float, Stored] | None:
    """(expiry as time.time(), stored page), or None once it is past its time.

    Redis expires entries too; checking here as well keeps the expiry exact
    under clock-frozen tests and across hosts whose Redis clocks drift."""
    try:
        expires, status, headers, body = pickle.loads(payload)  # noqa: S301 - written only by us
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError):
        return None  # an entry from an older format: render afresh
    if time.time() >= expires:
        return None
    return expires, Stored(status, headers, body)


def lookup(environ: dict) -> tuple[Stored | None, int | None]:
    """(stored page or None, generation token for storing a fresh render or None
    when the store is unreachable). A hit is answered from this worker's copy
    (core.cache.near) when it has one, else with one store round trip."""
    store = get_store()
    page_key = key(environ)
    near_bytes = _config().near_bytes
    copies = near.current(store, near_bytes) if near_bytes else None
    if copies is not None:
        stored = copies.get(page_key)
        if stored is not None:
            return stored, None
        seq = copies.seq  # read before the store: a drop after it refuses the copy
    try:
        payload = store.get(page_key)
        entry = _unpack_entry(payload) if payload is not None else None
        if entry is not None:
            if copies is not None:
                copies.put(page_key, *entry, seq)
            return entry[1], None
        return None, store.token()
    except store.errors as exc:
        log.warning("page cache unavailable, serving uncached: %s", exc)
        return None, None


def not_modified(environ: dict, headers: list[tuple[str, str]]) -> bool:
    inm = environ.get("HTTP_IF_NONE_MATCH")
    ims = environ.get("HTTP_IF_MODIFIED_SINCE")
    if not inm and not ims:
        return False
    values = {k.lower(): v for k, v in headers}
    if inm:
        etag = values.get("etag", "")
        tags = parse_etags(inm)
        return "*" in tags or etag in tags or etag.removeprefix("W/") in tags
    return ims == values.get("last-modified")


def answer(environ: dict, stored: Stored, label: str) -> Stored:
    """The response to send for a stored page: 304, HEAD without body, or as stored."""
    if not_modified(environ, stored.headers):
        kept = [(k, v) for k, v in stored.headers if k.lower() in NOT_MODIFIED_KEEPS]
        return Stored(304, [*kept, ("X-Page-Cache", label)], b"")
    body = b"" if environ["REQUEST_METHOD"] == "HEAD" else stored.body
    headers = [*stored.headers, ("Content-Length", str(len(stored.body))), ("X-Page-Cache", label)]
    return Stored(stored.status, headers, body)
