"""The framework floor: Django with no apps, no middleware, one URL.

Served by the same gunicorn settings as the site, it returns the post page's
bytes from memory, so the gap between it and a page-cache hit is the cost of
our cache path alone.
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bench-bare-not-secret")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare.urls"
WSGI_APPLICATION = "bench.bare.wsgi.application"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_TZ = True
LOGGING_CONFIG = None
