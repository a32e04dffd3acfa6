#!/usr/bin/env bash
# The whole suite twice: on PostgreSQL (DATABASE_URL) and on SQLite, both with the
# real Redis from with-services.sh as the cache, and the restore drill on PostgreSQL
# in between. Exit non-zero if any of them fails.
set -uo pipefail
: "${DATABASE_URL:?run me through scripts/with-services.sh}"
: "${REDIS_URL:?run me through scripts/with-services.sh}"
PYTEST=${PYTEST:-.venv/bin/pytest}
status=0

echo "=== suite on PostgreSQL ($DATABASE_URL), cache Redis ($REDIS_URL) ==="
"$PYTEST" "$@" || status=1

echo "=== restore drill on PostgreSQL (scripts/restore-drill.sh) ==="
scripts/restore-drill.sh || status=1

echo "=== suite on SQLite (embedded default), cache Redis ($REDIS_URL) ==="
env -u DATABASE_URL "$PYTEST" "$@" || status=1

exit $status
