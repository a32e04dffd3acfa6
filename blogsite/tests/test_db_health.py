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
