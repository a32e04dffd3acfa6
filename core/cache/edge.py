"""Purge the HTTP caches in front of the app (Varnish, Fastly, Cloudflare) by tag.

Called by core.cache.store.invalidate(), after Redis, so an edge that refetches
at once gets the fresh page. Each purger sends the same cache tags the app puts
in `Cache-Tag` / `Surrogate-Key`. A purge that cannot be delivered (after one
retry, with a short timeout) is logged and the write goes on: the edge then
keeps that page for at most its s-maxage.

    EDGE_PURGE_URLS=http://10.0.0.5:8080,http://10.0.0.6:8080   Varnish nodes
    FASTLY_SERVICE_ID + FASTLY_API_TOKEN                        Fastly
    CLOUDFLARE_ZONE_ID + CLOUDFLARE_API_TOKEN                   Cloudflare
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Protocol

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

log = logging.getLogger(__name__)

# Fastly's batch purge takes up to 256 surrogate keys per request; Cloudflare's
# purge_cache up to 100 tags (30 on older plans: CLOUDFLARE_TAGS_PER_REQUEST).
FASTLY_KEYS_PER_REQUEST = 256
# Varnish refuses request headers over http_req_hdr_len (8 KB by default).
VARNISH_HEADER_BYTES = 6000
# deploy/varnish/default.vcl adds this key to every object it stores.
VARNISH_EVERYTHING = "all"


class PurgeError(Exception):
    pass


class Purger(Protocol):
    name: str

    def purge(self, tags: Sequence[str]) -> None:
        """Drop every object carrying any of `tags`; raise on failure."""

    def purge_everything(self) -> None:
        """Drop every object of this site; raise on failure."""


def _send(
    method: str, url: str, *, timeout: float, headers: dict[str, str], body: bytes | None = None
) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise PurgeError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.read()
    except urllib.error.HTTPError as exc:
        text = exc.read()[:200].decode("utf-8", "replace")
        raise PurgeError(f"{method} {url} answered {exc.code}: {text}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PurgeError(f"{method} {url}: {exc}") from exc


def _batches(tags: Sequence[str], *, count: int, chars: int | None = None) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for tag in tags:
        if batch and (len(batch) >= count or (chars and size + len(tag) + 1 > chars)):
            yield batch
            batch, size = [], 0
        batch.append(tag)
        size += len(tag) + 1
    if batch:
        yield batch


class VarnishPurger:
    """`PURGE /` with `xkey-purge: tag tag ...`, handled by deploy/varnish/default.vcl."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = f"varnish {self.base_url}"
        self.timeout = timeout

    def purge(self, tags: Sequence[str]) -> None:
        for batch in _batches(tags, count=10_000, chars=VARNISH_HEADER_BYTES):
            _send(
                "PURGE",
                self.base_url + "/",
                timeout=self.timeout,
                headers={"xkey-purge": " ".join(batch)},
            )

    def purge_everything(self) -> None:
        self.purge([VARNISH_EVERYTHING])


class FastlyPurger:
    """Batch purge by surrogate key: POST /service/<id>/purge {"surrogate_keys": [...]}."""

    def __init__(self, *, service_id: str, token: str, api_url: str, timeout: float) -> None:
        self.url = f"{api_url.rstrip('/')}/service/{service_id}/purge"
        self.name = f"fastly {service_id}"
        self.token = token
        self.timeout = timeout

    def _post(self, url: str, body: dict | None) -> None:
        _send(
            "POST",
            url,
            timeout=self.timeout,
            body=json.dumps(body).encode() if body is not None else b"",
            headers={
                "Fastly-Key": self.token,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )

    def purge(self, tags: Sequence[str]) -> None:
        for batch in _batches(tags, count=FASTLY_KEYS_PER_REQUEST):
            self._post(self.url, {"surrogate_keys": batch})

    def purge_everything(self) -> None:
        self._post(self.url + "_all", None)


class CloudflarePurger:
    """POST /zones/<zone>/purge_cache {"tags": [...]}, within the per-request limit."""

    def __init__(
        self, *, zone_id: str, token: str, api_url: str, timeout: float, per_request: int
    ) -> None:
        self.url = f"{api_url.rstrip('/')}/zones/{zone_id}/purge_cache"
        self.name = f"cloudflare {zone_id}"
        self.token = token
        self.timeout = timeout
        self.per_request = per_request

    def _post(self, body: dict) -> None:
        answer = _send(
            "POST",
            self.url,
            timeout=self.timeout,
            body=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            success = json.loads(answer).get("success")
        except (ValueError, AttributeError):
            success = None
        if success is not True:
            raise PurgeError(f"POST {self.url} did not report success: {answer[:200]!r}")

    def purge(self, tags: Sequence[str]) -> None:
        for batch in _batches(tags, count=self.per_request):
            self._post({"tags": batch})

    def purge_everything(self) -> None:
        self._post({"purge_everything": True})


@cache
def purgers() -> tuple[Purger, ...]:
    timeout = settings.EDGE_PURGE_TIMEOUT
    out: list[Purger] = [VarnishPurger(u, timeout=timeout) for u in settings.EDGE_PURGE_URLS]
    if settings.FASTLY_SERVICE_ID and settings.FASTLY_API_TOKEN:
        out.append(
            FastlyPurger(
                service_id=settings.FASTLY_SERVICE_ID,
                token=settings.FASTLY_API_TOKEN,
                api_url=settings.FASTLY_API_URL,
                timeout=timeout,
            )
        )
    if settings.CLOUDFLARE_ZONE_ID and settings.CLOUDFLARE_API_TOKEN:
        out.append(
            CloudflarePurger(
                zone_id=settings.CLOUDFLARE_ZONE_ID,
                token=settings.CLOUDFLARE_API_TOKEN,
                api_url=settings.CLOUDFLARE_API_URL,
                timeout=timeout,
                per_request=settings.CLOUDFLARE_TAGS_PER_REQUEST,
            )
        )
    return tuple(out)


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=8, thread_name_prefix="edge-purge")


@receiver(setting_changed)
def _settings_changed(setting, **kwargs) -> None:
    if setting.startswith(("EDGE_", "FASTLY_", "CLOUDFLARE_")):
        purgers.cache_clear()


def _purge_one(purger: Purger, tags: list[str] | None) -> bool:
    for attempt in (1, 2):
        try:
            if tags is None:
                purger.purge_everything()
            else:
                purger.purge(tags)
            return True
        except PurgeError as exc:
            if attempt == 2:
                what = "everything" if tags is None else " ".join(tags)
                log.warning("edge purge failed (%s) for %s: %s", purger.name, what, exc)
    return False


def _purge_all_edges(tags: list[str] | None) -> int:
    targets = purgers()
    if len(targets) <= 1:
        return sum(_purge_one(p, tags) for p in targets)
    return sum(_pool().map(lambda p: _purge_one(p, tags), targets))


def purge(tags: set[str]) -> int:
    """Purge `tags` from every configured edge at once; return how many took it.
    Never raises: an unreachable edge must not fail the write."""
    return _purge_all_edges(sorted(tags)) if tags else 0


def purge_everything() -> int:
    """Empty every configured edge (manage.py purge_cache); never raises."""
    return _purge_all_edges(None)
