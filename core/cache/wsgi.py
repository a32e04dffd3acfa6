"""Answer page-cache hits at the WSGI layer, before Django builds a request.

A hit skips request construction, the request_started/finished signals and
every middleware; its stored headers and bytes go straight to the server.
Misses fall through to Django with the lookup already done.
"""

from http import HTTPStatus

from core.cache import page
from core.cache.middleware import ENVIRON_GENERATION

_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


class PageCacheWSGI:
    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        if page.is_cacheable(environ):
            stored, token = page.lookup(environ)
            if stored is not None:
                status, headers, body = page.answer(environ, stored, "hit")
                start_response(_REASONS[status], headers)
                return [body]
            environ[ENVIRON_GENERATION] = token
        return self.application(environ, start_response)
