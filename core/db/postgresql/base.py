"""Django's PostgreSQL backend, with a health check that costs no round trip.

With CONN_HEALTH_CHECKS, Django checks a persistent connection before the first
query of each request by sending `SELECT 1`: a round trip for the worker and
PostgreSQL on every uncached page (about 6% of a worker's time serving uncached
post pages). A connection the server has closed (a restart, a failover,
pg_terminate_backend, idle_session_timeout) has something to read while idle:
the server's FATAL message, or the end of the stream. So the check here asks the
kernel whether the idle socket is readable, which takes microseconds. Readable,
closed or broken: Django drops the connection and opens a new one, as it does
when `SELECT 1` fails.

What neither check can see is a server that dies after the check: that request
fails, and the next one reconnects, with `SELECT 1` as here.
"""

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
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
