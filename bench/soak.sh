#!/usr/bin/env bash
# `make soak`: two minutes of mixed load on a production-like server with Redis
# killed and restarted once and PostgreSQL restarted once; reports requests,
# statuses, latency, stale pages, lost edits and outage lengths. Not part of
# `make test`. See bench/README.md ("Soak").
#
# Knobs (environment): SOAK_POSTS (100000) SOAK_AUTHORS (200) SOAK_TAGS (1000)
# SOAK_SECONDS (120) SOAK_CONNECTIONS (64) SOAK_REDIS_KILL_AT (40)
# SOAK_PG_RESTART_AT (80) SOAK_RESULTS_DIR (bench/results) SOAK_KEEP=1 keeps the temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -z "${SOAK_INNER:-}" ]; then
  if ! command -v wrk >/dev/null; then
    echo "soak: installing wrk (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
  export SOAK_INNER=1
  exec scripts/with-services.sh "$ROOT/bench/soak.sh" "$@"
fi

: "${DATABASE_URL:?}" "${REDIS_URL:?}" "${PGPORT:?}" "${REDIS_PORT:?}" "${SERVICES_DIR:?}"
PY=${PY:-$ROOT/.venv/bin/python}
GUNICORN=${GUNICORN:-$ROOT/.venv/bin/gunicorn}
POSTS=${SOAK_POSTS:-100000}
SECONDS_=${SOAK_SECONDS:-120}
PGBIN=$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -n1)")
WORK=$(mktemp -d /tmp/blogsite-soak.XXXXXX)
GPID=
cleanup() {
  if [ -n "$GPID" ]; then
    kill -TERM "$GPID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$GPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$GPID" 2>/dev/null || true
  fi
  if [ -n "${SOAK_KEEP:-}" ]; then echo "soak: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DJANGO_SETTINGS_MODULE=blogsite.settings STATIC_ROOT="$WORK/static"
SECRET_KEY="soak-$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')"
export SECRET_KEY DEBUG=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export WEB_CONCURRENCY=2 GUNICORN_LOGLEVEL=warning
# The load generator searches from one address far faster than any reader.
export SEARCH_RATE_LIMIT=100000000/m

createdb -h 127.0.0.1 -p "$PGPORT" -U postgres blogsite
"$PY" manage.py migrate --noinput -v0
echo "soak: seeding $POSTS posts"
t=$(date +%s)
"$PY" manage.py seed_demo --posts "$POSTS" --authors "${SOAK_AUTHORS:-200}" --tags "${SOAK_TAGS:-1000}"
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"
echo "soak: seeded in $(($(date +%s) - t))s"
"$PY" manage.py collectstatic --noinput -v0

PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
# The shipped gunicorn.conf.py; only the address and the worker count are set.
PORT=$PORT HOST=127.0.0.1 "$GUNICORN" blogsite.wsgi -c gunicorn.conf.py >"$WORK/gunicorn.log" 2>&1 &
GPID=$!
for _ in $(seq 300); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done

HOST_=$(hostname -s 2>/dev/null || echo local)
OUT=${SOAK_RESULTS_DIR:-$ROOT/bench/results}/soak-$(date +%F)-$HOST_.md
status=0
"$PY" -m bench.soak_run --base "http://127.0.0.1:$PORT" --work "$WORK" --out "$OUT" \
  --pgbin "$PGBIN" --posts "$POSTS" --seconds "$SECONDS_" \
  --connections "${SOAK_CONNECTIONS:-64}" --redis-kill-at "${SOAK_REDIS_KILL_AT:-40}" \
  --pg-restart-at "${SOAK_PG_RESTART_AT:-80}" || status=$?
# The app's own request log: one JSON line per request (core.requestlog).
echo "soak: 500s in the request log: $(grep -c '"status": 500' "$WORK/gunicorn.log" || true)"
grep '"logger": "django.request"' "$WORK/gunicorn.log" | head -n 3 | cut -c1-600 || true
echo "soak: wrote $OUT"
exit "$status"
