import gc
import itertools
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "blogsite.settings")
django_application = get_wsgi_application()

from core.cache.wsgi import PageCacheWSGI  # noqa: E402 - needs Django set up

application = PageCacheWSGI(django_application)

# Everything loaded so far (Django, the apps, their modules: ~100,000 objects)
# lives as long as the process: keep it out of the garbage collector's full
# collections, which walked it all on one request in a few hundred (40-60 ms
# each). With gunicorn's preload_app this runs once, before the workers fork,
# so they also share those pages instead of copying them when a collection
# touches them. Collected first, so no garbage of the start-up is kept forever.
gc.collect()
gc.freeze()

# The first requests a worker serves create more objects that live as long as it
# does: compiled templates, prepared statements, URL and query caches (about
# 24,000 after a few requests of each page type). Once it has answered
# FREEZE_AFTER requests itself (cache hits do not count), they are frozen too,
# after that response is sent: collections stopped walking them, which halved
# the longest pause in 300 uncached renders of a page (53-67 ms to 25-43 ms) and
# cut the collector's time per render by 15-25%. Anything frozen is still freed
# when nothing refers to it; only a cycle alive at that moment is kept for good.
FREEZE_AFTER = 200
_served = itertools.count(1)


def _freeze_after_warm_up(**kwargs) -> None:
    if next(_served) == FREEZE_AFTER:
        gc.collect()
        gc.freeze()
        request_finished.disconnect(_freeze_after_warm_up)


request_finished.connect(_freeze_after_warm_up)
