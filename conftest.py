"""Shared fixtures. Tests run against whatever DATABASE_URL / REDIS_URL name
(scripts/with-services.sh starts real PostgreSQL and Redis for them)."""

import pytest


@pytest.fixture(autouse=True)
def _fresh_page_cache(settings):
    """Every test starts with an empty page cache and MEDIA_ROOT of its own."""
    from posts.cache.store import get_store, purge

    get_store.cache_clear()
    purge()
    yield
    get_store.cache_clear()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
