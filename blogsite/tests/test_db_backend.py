"""The PostgreSQL health check (core.db.postgresql): no query, yet a connection the
server closed is dropped and the next request reconnects."""

import time

import psycopg
import pytest
from django.db import connection

from posts.tests.factories import PostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _on_postgresql() -> bool:
    if connection.vendor != "postgresql":
        # SQLite has no server to lose; Django's own backend serves it.
        assert connection.settings_dict["ENGINE"] == "django.db.backends.sqlite3"
        return False
    assert connection.settings_dict["ENGINE"] == "core.db.postgresql"
    return True


def _terminate(pid: int) -> None:
    """pg_terminate_backend(pid) from a connection of its own, as an operator would."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


def _begin_request() -> None:
    """What Django does when a request starts: the next query runs the health check."""
    connection.close_if_unusable_or_obsolete()


def test_a_healthy_connection_is_kept_without_sending_a_query(monkeypatch):
    if not _on_postgresql():
        return
    connection.ensure_connection()
    raw = connection.connection
    pid = raw.info.backend_pid

    def no_query(*args, **kwargs):
        raise AssertionError("the health check sent a query")

    monkeypatch.setattr(raw, "cursor", no_query)
    monkeypatch.setattr(raw, "execute", no_query)
    assert connection.is_usable() is True
    monkeypatch.undo()

    _begin_request()
    PostFactory(title="Still here")
    assert connection.connection is raw
    assert connection.connection.info.backend_pid == pid


def test_a_connection_the_server_closed_is_replaced_before_the_next_query():
    if not _on_postgresql():
        return
    connection.ensure_connection()
    old = connection.connection
    _terminate(old.info.backend_pid)
    deadline = time.monotonic() + 5
    while connection.is_usable() and time.monotonic() < deadline:
        time.sleep(0.01)  # the backend's goodbye arrives just after the signal
    assert connection.is_usable() is False

    _begin_request()
    post = PostFactory(title="After the restart")
    assert connection.connection is not old
    with connection.cursor() as cursor:
        cursor.execute("SELECT title FROM posts_post WHERE id = %s", [post.pk])
        assert cursor.fetchone() == ("After the restart",)


def test_a_closed_or_failed_connection_is_unusable():
    if not _on_postgresql():
        return
    connection.ensure_connection()
    raw = connection.connection
    with pytest.raises(psycopg.errors.DivisionByZero):
        raw.execute("BEGIN")
        raw.execute("SELECT 1 / 0")
    assert connection.is_usable() is False  # a failed transaction
    raw.execute("ROLLBACK")
    assert connection.is_usable() is True
    raw.close()
    assert connection.is_usable() is False
    connection.close()


# --- Prepared statements ----------------------------------------------------------


def _prepared_statements() -> dict[str, tuple[str, int]]:
    """This connection's prepared statements: SQL -> (parameter types, generic plans)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, parameter_types::text, generic_plans FROM pg_prepared_statements"
        )
        return {sql: (types, generic) for sql, types, generic in cursor.fetchall()}


def test_fixed_shape_reader_queries_are_prepared_once_for_every_value(
    django_assert_num_queries,
):
    from posts import selectors
    from posts.tests.factories import TagFactory

    tag = TagFactory()
    posts = [PostFactory(tags=[tag]) for _ in range(3)]
    if not _on_postgresql():
        assert selectors.adjacent_posts(posts[1])[0] == posts[0]
        return
    before = set(_prepared_statements())
    for _ in range(7):
        with django_assert_num_queries(1) as ctx:
            older, newer = selectors.adjacent_posts(posts[1])
        assert (older, newer) == (posts[0], posts[2])
    # The query log shows the values, not the $1 placeholders sent.
    assert f"{posts[1].pk}" in ctx.captured_queries[0]["sql"]
    assert "$1" not in ctx.captured_queries[0]["sql"]
    # A small and a large id: one statement (every int is sent as bigint).
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('posts_post', 'id'), 40000)")
    far = PostFactory(tags=[tag])
    assert far.pk > 32767
    assert selectors.adjacent_posts(far)[0] == posts[2]
    new = {sql: v for sql, v in _prepared_statements().items() if sql not in before}
    adjacent = [(types, generic) for sql, (types, generic) in new.items() if " OR " in sql]
    assert len(adjacent) == 1
    types, generic = adjacent[0]
    assert "bigint" in types and "smallint" not in types and "integer" not in types
    assert generic >= 1  # after five runs PostgreSQL plans it once for all values


def test_search_is_planned_for_its_words_not_prepared():
    from posts import selectors

    PostFactory(title="Quokka census", body="Counting quokkas on the island.")
    hits = selectors.search_hits("quokka")
    assert [p.title for p in hits[0:10]] == ["Quokka census"]
    if not _on_postgresql():
        return
    assert not [sql for sql in _prepared_statements() if "ts_rank" in sql]
    # Its card data (bylines, tags) is prepared: one plan suits any ids.
    assert [sql for sql in _prepared_statements() if "posts_authorship" in sql]


def test_nothing_is_prepared_when_the_options_turn_preparing_off(monkeypatch):
    # As with PGBOUNCER=true: a transaction pooler hands each transaction a
    # different server connection, where a prepared statement would not exist.
    from posts import selectors

    posts = [PostFactory() for _ in range(3)]
    if not _on_postgresql():
        return
    connection.close()  # a new connection: nothing prepared on it yet
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "prepare_threshold", None)
    assert selectors.adjacent_posts(posts[1]) == (posts[0], posts[2])
    assert _prepared_statements() == {}
    monkeypatch.undo()
    connection.close()  # the option is read when connecting
    assert selectors.adjacent_posts(posts[1]) == (posts[0], posts[2])
    assert len(_prepared_statements()) == 1
