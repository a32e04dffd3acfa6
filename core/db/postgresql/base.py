"""Django's PostgreSQL backend, with two changes for the reader pages' hot path.

1. A health check that costs no round trip. With CONN_HEALTH_CHECKS, Django
   checks a persistent connection before the first query of each request by
   sending `SELECT 1`: a round trip for the worker and PostgreSQL on every
   uncached page. A connection the server has closed (a restart, a failover,
   pg_terminate_backend, idle_session_timeout) has something to read while idle:
   the server's FATAL message, or the end of the stream. So the check here asks
   the kernel whether the idle socket is readable, which takes microseconds.
   Readable, closed or broken: Django drops the connection and opens a new one,
   as it does when `SELECT 1` fails. Neither check can see a server that dies
   after it: that request fails, and the next one reconnects.

2. Prepared statements on request. Inside `prepared_statements()`, cursors bind
   their parameters on the server and prepare every statement: PostgreSQL parses
   it once per connection, and after five runs keeps one generic plan if that
   plan is not estimated dearer than planning each run (its default
   plan_cache_mode). A post page's six statements went from 2.9 to 1.8 ms of
   round trips, PostgreSQL time included: planning was half of their cost.
   posts.querysets.PreparedQuery uses it for fixed-shape statements only, where
   one plan suits every value; everything else keeps Django's client-side
   binding, which has no limit on the number of parameters (server-side binding
   stops at 65,535) and plans each query for its values. Off when OPTIONS sets
   `prepare_threshold` to None, as the PgBouncer mode in settings does.
"""

import select
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg.types.numeric import Int8

# psycopg's own default. Only PreparingCursor prepares (Django's cursors bind on
# the client and never do), and it prepares a statement the first time.
PREPARE_THRESHOLD = 5


def _int8(value):
    # psycopg sends each int as the smallest type that holds it: ids 4 and 40,000
    # would make two statements (and plans) of one. One type for all.
    return Int8(value) if type(value) is int else value


class PreparingCursor(psycopg.Cursor):
    """Binds on the server and prepares every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        if isinstance(params, dict):
            params = {name: _int8(value) for name, value in params.items()}
        elif params is not None:
            params = [_int8(value) for value in params]
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        if isinstance(cursor, PreparingCursor):
            # The statement sent has $1 placeholders: show it with its values, as
            # Django does for connections that always bind on the server.
            try:
                return self.compose_sql(sql, params)
            except errors.DataError:
                return None
        return super().last_executed_query(cursor, sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._preparing = False

    def is_usable(self) -> bool:
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        if conn.info.transaction_status not in (TransactionStatus.IDLE, TransactionStatus.INTRANS):
            return False  # a failed transaction, or a query still running
        try:
            readable, _, _ = select.select([conn.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        # Nothing arrives unasked on an idle connection that this site opens
        # (no LISTEN), except the server saying goodbye; a harmless false alarm
        # (a reported parameter change) only costs a reconnect.
        return not readable

    @property
    def prepare_threshold(self) -> int | None:
        """OPTIONS' value if set (None: never prepare), else ours, not Django's None."""
        return self.settings_dict["OPTIONS"].get("prepare_threshold", PREPARE_THRESHOLD)

    @property
    def prepares_statements(self) -> bool:
        return self.prepare_threshold is not None

    def get_connection_params(self) -> dict:
        return {**super().get_connection_params(), "prepare_threshold": self.prepare_threshold}

    @contextmanager
    def prepared_statements(self) -> Iterator[None]:
        """Cursors opened inside run prepared statements (see the module's docstring)."""
        previous, self._preparing = self._preparing, self.prepares_statements
        try:
            yield
        finally:
            self._preparing = previous

    def create_cursor(self, name=None):
        if name is None and self._preparing:
            # Django's cursor set-up (the time zone of loaded dates) on our class.
            factory = self.connection.cursor_factory
            self.connection.cursor_factory = PreparingCursor
            try:
                return super().create_cursor(name)
            finally:
                self.connection.cursor_factory = factory
        return super().create_cursor(name)
