#!/usr/bin/env bash
# Restore drill (docs/operations.md): seed a throwaway database, back it up the way
# production does (pg_dump -Fc plus a media tarball), drop everything, restore, and
# check that every table has the same row count and every sampled page and feed the
# same bytes; then purge the page cache and run `manage.py doctor`.
# Run through scripts/with-services.sh (needs PGPORT, REDIS_URL). Exit 1 on any mismatch.
set -euo pipefail
: "${PGPORT:?run me through scripts/with-services.sh}"
: "${REDIS_URL:?run me through scripts/with-services.sh}"

cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
PGBIN=${PGBIN:-$(dirname "$(ls -d /usr/lib/postgresql/*/bin/pg_dump | sort -V | tail -n1)")}
POSTS=${DRILL_POSTS:-300}
DB=restore_drill
PG=(-h 127.0.0.1 -p "$PGPORT" -U postgres)
WORK=$(mktemp -d /tmp/restore-drill.XXXXXX)
trap 'rm -rf "$WORK"; "$PGBIN/dropdb" "${PG[@]}" --if-exists "$DB" 2>/dev/null || true' EXIT

export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/$DB"
export MEDIA_ROOT="$WORK/media" STATIC_ROOT="$WORK/static" CACHE_KEY_PREFIX="restore-drill-$$"
export DEBUG=false SECRET_KEY=${SECRET_KEY:-restore-drill-only-key-not-secret-0123456789abcdef}
export STATICFILES_BACKEND=django.contrib.staticfiles.storage.StaticFilesStorage
export REQUEST_LOG_LEVEL=WARNING  # the page fetches below would log a line each
manage() { "$PYTHON" manage.py "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }

# Row counts of every table, then the bytes of sampled pages rendered afresh (the
# page cache is off, so nothing restored can be served from Redis instead).
snapshot() {
  PAGE_CACHE_ENABLED=false DJANGO_SETTINGS_MODULE=blogsite.settings PYTHONPATH=. \
    "$PYTHON" - "$1" <<'PY'
import hashlib, sys
import django
django.setup()
from django.apps import apps
from django.test import Client
from posts.models import Post, Tag
from accounts.models import AuthorProfile

out = []
for model in sorted(apps.get_models(), key=lambda m: m._meta.db_table):
    out.append(f"rows {model._meta.db_table} {model._default_manager.count()}")
post = Post.objects.public().order_by("pk")
tag = Tag.objects.order_by("pk").first()
author = AuthorProfile.objects.order_by("pk").first()
paths = ["/", "/?page=2", "/tags/", "/authors/", "/feed/", "/feed/atom/", "/feed.json",
         "/sitemap.xml", "/robots.txt", "/search/?q=cache",
         post.first().get_absolute_url(), post.last().get_absolute_url(),
         tag.get_absolute_url(), author.get_absolute_url()]
client = Client()
for path in paths:
    response = client.get(path)
    digest = hashlib.sha256(response.content).hexdigest()
    out.append(f"page {path} {response.status_code} {len(response.content)} {digest}")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY
}

"$PGBIN/dropdb" "${PG[@]}" --if-exists "$DB" 2>/dev/null
"$PGBIN/createdb" "${PG[@]}" "$DB"
mkdir -p "$STATIC_ROOT"
manage migrate --noinput -v0
manage seed_demo --posts "$POSTS" --authors 12 --tags 40 >/dev/null
mkdir -p "$MEDIA_ROOT/covers/2026"
head -c 20000 /dev/urandom >"$MEDIA_ROOT/covers/2026/drill.bin"
snapshot "$WORK/before.txt"
(cd "$MEDIA_ROOT" && find . -type f -exec sha256sum {} + | sort) >"$WORK/media-before.txt"

# The backup, as docs/operations.md prescribes.
t0=$(ms)
"$PGBIN/pg_dump" "${PG[@]}" -Fc -f "$WORK/blogsite.dump" "$DB"
tar -C "$MEDIA_ROOT" -czf "$WORK/media.tar.gz" .
t_dump=$(($(ms) - t0))

# Disaster: the database and the media are gone.
"$PGBIN/dropdb" "${PG[@]}" "$DB"
rm -rf "$MEDIA_ROOT"

t0=$(ms)
"$PGBIN/createdb" "${PG[@]}" "$DB"
"$PGBIN/pg_restore" "${PG[@]}" --no-owner --exit-on-error -d "$DB" "$WORK/blogsite.dump"
mkdir -p "$MEDIA_ROOT"
tar -C "$MEDIA_ROOT" -xzf "$WORK/media.tar.gz"
t_restore=$(($(ms) - t0))

snapshot "$WORK/after.txt"
(cd "$MEDIA_ROOT" && find . -type f -exec sha256sum {} + | sort) >"$WORK/media-after.txt"
manage purge_cache >/dev/null

status=0
if ! diff -u "$WORK/before.txt" "$WORK/after.txt"; then
  echo "restore drill: restored database differs from the original (diff above)" >&2
  status=1
fi
if ! diff -u "$WORK/media-before.txt" "$WORK/media-after.txt"; then
  echo "restore drill: restored media differ from the original (diff above)" >&2
  status=1
fi
if ! doctor_out=$(manage doctor --no-color); then
  echo "$doctor_out" >&2
  echo "restore drill: manage.py doctor reports a failure after the restore" >&2
  status=1
fi
not_ok=$(awk '/^page / && $3 != 200' "$WORK/after.txt")
if [ -n "$not_ok" ]; then
  echo "$not_ok" >&2
  echo "restore drill: a sampled page did not answer 200" >&2
  status=1
fi

tables=$(grep -c '^rows ' "$WORK/after.txt")
rows=$(awk '/^rows /{s+=$3} END{print s}' "$WORK/after.txt")
pages=$(grep -c '^page ' "$WORK/after.txt")
size=$(du -k "$WORK/blogsite.dump" | cut -f1)
verdict=$([ $status = 0 ] && echo "OK, identical" || echo "FAILED, compared")
echo "restore drill $verdict: $POSTS posts, $tables tables ($rows rows), $pages pages and" \
  "the media after pg_dump -Fc (${size} KB, ${t_dump} ms) and pg_restore (${t_restore} ms);" \
  "page cache purged"
exit $status
