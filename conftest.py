"""Shared fixtures. Tests run against whatever DATABASE_URL / REDIS_URL name
(scripts/with-services.sh starts real PostgreSQL and Redis for them)."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_page_cache(settings, tmp_path_factory):
    """Every test starts with an empty page cache. Without REDIS_URL the file
    cache lives in a directory of this run's own, so parallel runs stay apart."""
    from core.cache.store import get_store, purge

    default = settings.CACHES["default"]
    if default["BACKEND"].endswith("FileBasedCache"):
        settings.CACHES = {
            "default": {**default, "LOCATION": str(tmp_path_factory.getbasetemp() / "cache")}
        }
    get_store.cache_clear()
    purge()
    yield
    get_store.cache_clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads and renditions (seed_demo draws covers) go to this test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Tests log in a lot; MD5 (tests only) keeps that from dominating the run."""
    # PBKDF2 stays available for logins that other processes (gunicorn) must check:
    # see posts.tests.edge.editor_for_other_processes.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
