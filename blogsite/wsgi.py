import gc
import os

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
