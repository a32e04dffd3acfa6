"""Answer page-cache hits at the WSGI layer, before Django builds a request.

A hit skips request construction, the request_started/finished signals and
every middleware; its stored headers and bytes go straight to the server.
Misses fall through to Django with the lookup already done.
"""

import time
from http import HTTPStatus

from core import requestlog
from core.cache import page
from core.cache.middleware import ENVIRON_GENERATION

_REASONS = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}


class PageCacheWSGI:
    def __init__(self, application) -> None:
        self.application = application

    def __call__(self, environ, start_response):
        # Read by the request log on both paths, so a miss's duration counts from here too.
        environ[requestlog.ENVIRON_START] = start = time.perf_counter()
        if page.is_cacheable(environ):
            stored, token = page.lookup(environ)
            if stored is not None:
                status, headers, body = page.answer(environ, stored, "hit")
                headers.append((requestlog.HEADER, requestlog.request_id(environ)))
                start_response(_REASONS[status], headers)
                requestlog.log_request(
                    environ, start=start, status=status, cache="hit", size=len(body)
                )
                return [body]
            environ[ENVIRON_GENERATION] = token
        return self.application(environ, start_response)
