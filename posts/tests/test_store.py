"""The Redis page store's generation tokens across a change of Redis primary."""

from core.cache.store import RedisPageStore, get_store


def test_a_token_read_before_any_page_on_a_new_primary_still_stores():
    store = get_store()
    assert isinstance(store, RedisPageStore), "the suite runs with REDIS_URL (with-services.sh)"
    store.client.delete(f"{store.prefix}primary")  # as on a fresh or promoted Redis
    store._local.conn = None  # a new process: nothing adopted yet
    token = store.token()
    assert store.set("/probe/", b"page", tags={"probe"}, ttl=60, token=token) is True
    assert store.get("/probe/") == b"page"
