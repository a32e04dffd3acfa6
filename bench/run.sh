#!/usr/bin/env bash
# `make bench`: the whole benchmark, end to end, on this machine.
#
# Starts throwaway PostgreSQL + Redis (scripts/with-services.sh), seeds a large
# database, serves it with gunicorn (cache on, cache off), and measures with wrk
# next to nginx serving the same page as a file and a bare Django view returning
# it from memory, and Varnish (deploy/varnish/default.vcl) in front of the
# cached server. Then in-process page timings with query plans, worker memory,
# and a mixed read workload with an edit a second checked for stale pages, on
# the cached server and again through Varnish (each edit purges it by tag).
# Writes bench/results/<date>-<host>.md and prints it. See bench/README.md.
#
# Knobs (environment): BENCH_POSTS (100000) BENCH_AUTHORS (200) BENCH_TAGS (1000)
# BENCH_DURATION (10s) BENCH_WARMUP (3s) BENCH_CONNECTIONS (32) BENCH_THREADS (2)
# BENCH_MIXED_SECONDS (30) BENCH_PAGE_RUNS (100) BENCH_RESULTS_DIR (bench/results)
# BENCH_SUSTAIN_ROUNDS (6: the 60 s cache-hit run, in 10 s rounds) BENCH_KEEP=1 keeps the temp dir.
# Every gunicorn runs the shipped gunicorn.conf.py; only the bind address and the
# worker count (WEB_CONCURRENCY=2) are set here.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ -z "${BENCH_INNER:-}" ]; then
  need=()
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    echo "bench: installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  scripts/ensure-varnish.sh --varnish-only
  export BENCH_INNER=1
  exec scripts/with-services.sh "$ROOT/bench/run.sh" "$@"
fi

: "${DATABASE_URL:?}" "${REDIS_URL:?}" "${PGPORT:?}" "${REDIS_PORT:?}"
PY=${PY:-$ROOT/.venv/bin/python}
GUNICORN=${GUNICORN:-$ROOT/.venv/bin/gunicorn}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)
POSTS=${BENCH_POSTS:-100000}
AUTHORS=${BENCH_AUTHORS:-200}
TAGS=${BENCH_TAGS:-1000}
DURATION=${BENCH_DURATION:-10s}
WARMUP=${BENCH_WARMUP:-3s}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
MIXED_SECONDS=${BENCH_MIXED_SECONDS:-30}
PAGE_RUNS=${BENCH_PAGE_RUNS:-100}
# wrk drops a response slower than its timeout from the latency figures: allow queueing.
WRK_TIMEOUT=${BENCH_WRK_TIMEOUT:-10s}
RESULTS_DIR=${BENCH_RESULTS_DIR:-$ROOT/bench/results}
RUN_START=$(date +%s)

WORK=$(mktemp -d /tmp/blogsite-bench.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/www" "$WORK/static" "$WORK/nginx"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [ -n "${BENCH_KEEP:-}" ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s (%ss)\n' "$*" "$(($(date +%s) - RUN_START))"; }
free_port() { # a free port not handed out earlier in this run (the kernel may repeat one)
  local p
  while :; do
    p=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
    grep -qx "$p" "$WORK/ports" 2>/dev/null || break
  done
  echo "$p" >>"$WORK/ports"
  echo "$p"
}
now() { date +%s.%N; }
elapsed() { python3 -c "print(round($(now) - $1, 1))"; }
status_of() { # curl prints 000 itself when nothing answers (a preloading gunicorn is not listening yet)
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$1") || true
  echo "${code:-000}"
}
redis_stat() { redis-cli -p "$REDIS_PORT" info stats | tr -d '\r' | sed -n "s/^$1://p"; }
drain() { # base url: a sync worker still answers the requests of a wrk run that has
  # ended; wait until /healthz gets through so the next case starts with an empty queue
  curl -s -o /dev/null --max-time 120 "$1/healthz" || true
}
worker_rss() { # name: the RSS in KiB of each worker of that gunicorn, a line each
  local pid
  for pid in $(pgrep -P "$(cat "$WORK/$1.master")" || true); do
    ps -o rss= -p "$pid" | tr -d ' '
  done
}
wait_http() { # url: up to 30 s for a server to answer
  for _ in $(seq 300); do
    [ "$(status_of "$1")" != 000 ] && return 0
    sleep 0.1
  done
  echo "bench: nothing answers at $1" >&2
  return 1
}

export DJANGO_SETTINGS_MODULE=blogsite.settings STATIC_ROOT="$WORK/static"
SECRET_KEY="bench-$(python3 -c 'import secrets; print(secrets.token_urlsafe(40))')"
export SECRET_KEY DEBUG=false ALLOWED_HOSTS=127.0.0.1 LOG_LEVEL=WARNING
export WEB_CONCURRENCY=2 GUNICORN_LOGLEVEL=warning
# wrk searches from one address far faster than a reader: measure search, not its 429.
export SEARCH_RATE_LIMIT=100000000/m
echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >"$WORK/params"
echo "run=$RUN_START posts=$POSTS authors=$AUTHORS tags=$TAGS duration=$DURATION" \
  "warmup=$WARMUP connections=$CONNS threads=$THREADS mixed=${MIXED_SECONDS}s" \
  "max_requests=${MAX_REQUESTS:-0}" | tr ' ' '\n' >>"$WORK/params"

# --- 1. Database ------------------------------------------------------------
log "migrate"
createdb -h 127.0.0.1 -p "$PGPORT" -U postgres blogsite
t=$(now)
"$PY" manage.py migrate --noinput -v0
MIGRATE_S=$(elapsed "$t")
SEEDER=(manage.py seed_demo)
log "${SEEDER[*]} --posts $POSTS --authors $AUTHORS --tags $TAGS"
t=$(now)
"$PY" "${SEEDER[@]}" --posts "$POSTS" --authors "$AUTHORS" --tags "$TAGS"
SEED_S=$(elapsed "$t")
echo "seeding took ${SEED_S}s"
t=$(now)
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE"  # fresh planner statistics, as autovacuum would leave them
ANALYZE_S=$(elapsed "$t")
psql -At "$DATABASE_URL" -F ' ' -c "SELECT
  (SELECT count(*) FROM posts_post), (SELECT count(*) FROM posts_tag),
  (SELECT count(*) FROM accounts_authorprofile), (SELECT count(*) FROM posts_posttag),
  (SELECT count(*) FROM posts_authorship), pg_size_pretty(pg_database_size(current_database()))" \
  >"$WORK/counts"
printf 'seeder=%s\nseed_s=%s\nmigrate_s=%s\nanalyze_s=%s\n' "${SEEDER[*]}" "$SEED_S" "$MIGRATE_S" "$ANALYZE_S" >>"$WORK/params"
"$PY" -m bench.targets >"$WORK/targets.json"
target() { "$PY" -c "import json,sys; t=json.load(open('$WORK/targets.json')); print($1)"; }
POST=$(target 't["posts"][0]')
TAG=$(target '(t["tags"] or ["none"])[0]')
AUTHOR=$(target '(t["authors"] or ["none"])[0]')
WORD=$(target 't["search_word"]')

# --- 2. Servers ---------------------------------------------------------------
log "collectstatic and servers"
"$PY" manage.py collectstatic --noinput -v0
start_gunicorn() { # name port app [env...]: the shipped gunicorn.conf.py, same for every case
  local name=$1 port=$2 app=$3
  shift 3
  env "$@" PORT="$port" HOST=127.0.0.1 "$GUNICORN" "$app" -c gunicorn.conf.py \
    --pid "$WORK/$name.pid" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  echo "$!" >"$WORK/$name.master"
}
PORT_CACHED=$(free_port)
start_gunicorn cached "$PORT_CACHED" blogsite.wsgi PAGE_CACHE_ENABLED=true
PORT_UNCACHED=$(free_port)
start_gunicorn uncached "$PORT_UNCACHED" blogsite.wsgi PAGE_CACHE_ENABLED=false
CACHED=http://127.0.0.1:$PORT_CACHED
UNCACHED=http://127.0.0.1:$PORT_UNCACHED
wait_http "$CACHED/healthz"
wait_http "$UNCACHED/healthz"

# The page every floor case serves: our post page, as the uncached server renders it.
code=$(curl -s -o "$WORK/www/post.html" -w '%{http_code}' "$UNCACHED/posts/$POST/")
if [ "$code" != 200 ]; then
  echo "bench: /posts/$POST/ answered $code; the post page is needed for every case" >&2
  tail -n 30 "$WORK/uncached.log" >&2
  exit 1
fi
chmod 644 "$WORK/www/post.html"
PAGE_BYTES=$(stat -c %s "$WORK/www/post.html")
echo "page_bytes=$PAGE_BYTES" >>"$WORK/params"
echo "post_slug=$POST" >>"$WORK/params"

PORT_BARE=$(free_port)
start_gunicorn bare "$PORT_BARE" bench.bare.wsgi:application \
  DJANGO_SETTINGS_MODULE=bench.bare.settings BENCH_PAGE_FILE="$WORK/www/post.html"
BARE=http://127.0.0.1:$PORT_BARE
wait_http "$BARE/"

PORT_NGINX=$(free_port)
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  default_type text/html;
  client_body_temp_path $WORK/nginx/body;
  proxy_temp_path $WORK/nginx/proxy;
  fastcgi_temp_path $WORK/nginx/fastcgi;
  uwsgi_temp_path $WORK/nginx/uwsgi;
  scgi_temp_path $WORK/nginx/scgi;
  server {
    listen 127.0.0.1:$PORT_NGINX;
    root $WORK/www;
  }
}
EOF
"$NGINX" -e "$WORK/nginx/error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" \
  -g 'daemon off;' &
PIDS+=($!)
NGINX_URL=http://127.0.0.1:$PORT_NGINX
wait_http "$NGINX_URL/post.html"

# Varnish in front of the cached server, with the project's VCL; the editor of
# the mixed workload purges it by tag, as every write does (EDGE_PURGE_URLS).
PORT_VARNISH=$(free_port)
mkdir -p "$WORK/varnish"
cp deploy/varnish/default.vcl "$WORK/varnish/"
"$PY" scripts/varnish-site-vcl.py --backend "127.0.0.1:$PORT_CACHED" >"$WORK/varnish/site.vcl"
"$VARNISHD" -F -n "$WORK/varnish/n" -a "127.0.0.1:$PORT_VARNISH" -T 127.0.0.1:0 \
  -f "$WORK/varnish/default.vcl" -p "vcl_path=$WORK/varnish" -s malloc,256m \
  >"$WORK/varnish/log" 2>&1 &
PIDS+=($!)
VARNISH_URL=http://127.0.0.1:$PORT_VARNISH
export EDGE_PURGE_URLS=$VARNISH_URL
wait_http "$VARNISH_URL/healthz"

# --- 3. wrk -----------------------------------------------------------------
# cases.tsv: name, label, url, status, X-Page-Cache seen, redis hits, redis misses
printf 'name\tlabel\turl\tstatus\tcache\trhits\trmisses\n' >"$WORK/cases.tsv"
run_case() { # name label url
  local name=$1 label=$2 url=$3 code cache edge h0 m0 base
  base=$(echo "$url" | cut -d/ -f1-3)
  code=$(status_of "$url")
  cache=$(curl -s -D - -o /dev/null "$url" | tr -d '\r' | sed -n 's/^[Xx]-[Pp]age-[Cc]ache: //p')
  edge=$(curl -s -D - -o /dev/null "$url" | tr -d '\r' | sed -n 's/^[Xx]-[Ee]dge-[Cc]ache: //p')
  cache=${edge:-$cache}
  echo "-- $label: $url -> $code ${cache:+(cache: $cache)}"
  if [ "$code" != 200 ]; then
    printf '%s\t%s\t%s\t%s\t\t\t\n' "$name" "$label" "$url" "$code" >>"$WORK/cases.tsv"
    return 0
  fi
  wrk -t"$THREADS" -c"$CONNS" -d"$WARMUP" "$url" >/dev/null 2>&1 || true
  drain "$base"
  h0=$(redis_stat keyspace_hits)
  m0=$(redis_stat keyspace_misses)
  wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout "$WRK_TIMEOUT" --latency -s bench/wrk/stats.lua "$url" \
    >"$WORK/wrk-$name.txt" 2>&1 || true
  h0=$(($(redis_stat keyspace_hits) - h0))
  m0=$(($(redis_stat keyspace_misses) - m0))
  drain "$base"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$label" "$url" "$code" "$cache" "$h0" "$m0" \
    >>"$WORK/cases.tsv"
  grep -E 'Requests/sec|^ +(50|99)%' "$WORK/wrk-$name.txt" | tr -s ' ' | paste -sd' ' || true
}
log "wrk -t$THREADS -c$CONNS -d$DURATION (warm-up $WARMUP) per case"
curl -s -o /dev/null "$CACHED/posts/$POST/"  # fill the cache for the hit case
run_case nginx "(1) nginx, static file" "$NGINX_URL/post.html"
run_case bare "(2) bare Django view" "$BARE/"
run_case hit "(3) post page, cache hit" "$CACHED/posts/$POST/"
curl -s -o /dev/null "$VARNISH_URL/posts/$POST/"  # Varnish fetches it once
run_case varnish "(6) post page, Varnish hit" "$VARNISH_URL/posts/$POST/"
run_case miss "(4) post page, cache off" "$UNCACHED/posts/$POST/"
run_case home "(5) home, cache off" "$UNCACHED/"
run_case tag "(5) tag page, cache off" "$UNCACHED/tags/$TAG/"
run_case search "(5) search, cache off" "$UNCACHED/search/?q=$WORD"
run_case feed "(5) site feed, cache off" "$UNCACHED/feed/"

# The floor and the hit again, alternated in rounds: on a shared VM one 10 s run
# of each can land on a fast and a slow moment; pairs taken turn about, the order
# swapped each round, compare them at the same moments.
PAIR_ROUNDS=${BENCH_PAIR_ROUNDS:-3}
log "floor and cache hit alternated: $PAIR_ROUNDS rounds of 10 s each"
for round in $(seq "$PAIR_ROUNDS"); do
  order="bare hit"
  [ $((round % 2)) = 0 ] && order="hit bare"
  for name in $order; do
    url="$BARE/"
    [ "$name" = hit ] && url="$CACHED/posts/$POST/"
    wrk -t"$THREADS" -c"$CONNS" -d10s --timeout "$WRK_TIMEOUT" --latency -s bench/wrk/stats.lua \
      "$url" >"$WORK/pair-$name-$round.txt" 2>&1 || true
    echo "round $round $name $(grep -E 'Requests/sec' "$WORK/pair-$name-$round.txt" | tr -s ' ')"
  done
done
drain "$CACHED"

# A minute of cache hits in 10 s rounds: throughput must not sag (worker recycling,
# leaks, Redis connection churn would show here), and p99 stays low throughout.
SUSTAIN_ROUNDS=${BENCH_SUSTAIN_ROUNDS:-6}
log "sustained cache hits: $SUSTAIN_ROUNDS x 10 s"
for round in $(seq "$SUSTAIN_ROUNDS"); do
  wrk -t"$THREADS" -c"$CONNS" -d10s --timeout "$WRK_TIMEOUT" --latency -s bench/wrk/stats.lua \
    "$CACHED/posts/$POST/" >"$WORK/sustain-$round.txt" 2>&1 || true
  grep -E 'Requests/sec' "$WORK/sustain-$round.txt" | tr -s ' ' || true
done
drain "$CACHED"

# --- 5. Worker memory after the load -------------------------------------------
for name in bare cached uncached; do
  worker_rss "$name" | sed "s/^/$name /"
done >"$WORK/rss"

# --- 4. In-process page timings and query plans --------------------------------
log "in-process page timings ($PAGE_RUNS runs each) and EXPLAIN ANALYZE"
"$PY" -m bench.page_timings --targets "$WORK/targets.json" --runs "$PAGE_RUNS" \
  --out "$WORK/pages.json"

# The URLs of the mixed workloads: the hot ones that exist.
"$PY" - "$WORK/targets.json" >"$WORK/mixed-candidates" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
paths = ["/"] + [f"/posts/{s}/" for s in t["posts"]]
paths += [f"/tags/{s}/" for s in t["tags"]] + [f"/authors/{s}/" for s in t["authors"]]
print("\n".join(paths + ["/feed/"]))
EOF
: >"$WORK/mixed-paths"
: >"$WORK/mixed-missing"
while read -r path; do  # bounded: the candidate list is ~20 lines
  if [ "$(status_of "$CACHED$path")" = 200 ]; then
    echo "$path" >>"$WORK/mixed-paths"
  else
    echo "$path" >>"$WORK/mixed-missing"
  fi
done <"$WORK/mixed-candidates"
# --- 5b. Worker memory over a long mixed run (uncached: renders allocate the most) --
# Rounds of mixed uncached reads (every page type, search and deep pages included);
# after each round the RSS of every worker and the requests so far. The report
# gives RSS after the first 10,000 requests and the growth from the end of the
# first minute to the end of the run.
MEMORY_SECONDS=${BENCH_MEMORY_SECONDS:-300}
MEMORY_ROUND=${BENCH_MEMORY_ROUND:-30}
{
  cat "$WORK/mixed-paths"
  printf '%s\n' "/?page=2" "/?page=500" "/search/?q=$WORD" "/search/?q=$WORD&page=2" \
    "/tags/" "/authors/" "/sitemap.xml" "/sitemap-posts.xml" "/feed/"
} >"$WORK/memory-paths"
log "worker memory: ${MEMORY_SECONDS}s of mixed uncached reads in ${MEMORY_ROUND}s rounds"
: >"$WORK/memory.tsv"
elapsed_s=0
while [ "$elapsed_s" -lt "$MEMORY_SECONDS" ]; do
  wrk -t"$THREADS" -c"$CONNS" -d"${MEMORY_ROUND}s" --timeout "$WRK_TIMEOUT" -s bench/wrk/mixed.lua "$UNCACHED" \
    -- "$WORK/memory-paths" >"$WORK/memory-round.txt" 2>&1 || true
  drain "$UNCACHED"
  elapsed_s=$((elapsed_s + MEMORY_ROUND))
  requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$WORK/memory-round.txt")
  rss=$(worker_rss uncached | paste -sd,)
  printf '%s\t%s\t%s\n' "$elapsed_s" "${requests:-0}" "$rss" >>"$WORK/memory.tsv"
  echo "  ${elapsed_s}s: ${requests:-0} requests, worker RSS KiB $rss"
done

# --- 6. Mixed reads with an edit every second -----------------------------------
log "mixed workload: ${MIXED_SECONDS}s of reads on the cached server, one edit a second"
run_mixed() { # suffix base: reads on `base` while the editor retitles a post a second
  local suffix=$1 base=$2 wrk_pid h0 m0
  drain "$CACHED"
  while read -r path; do curl -s -o /dev/null --max-time 30 "$base$path" || true; done <"$WORK/mixed-paths"
  h0=$(redis_stat keyspace_hits)
  m0=$(redis_stat keyspace_misses)
  wrk -t"$THREADS" -c"$CONNS" -d"${MIXED_SECONDS}s" --timeout "$WRK_TIMEOUT" --latency -s bench/wrk/mixed.lua "$base" \
    -- "$WORK/mixed-paths" >"$WORK/wrk-mixed$suffix.txt" 2>&1 &
  wrk_pid=$!
  PIDS+=("$wrk_pid")
  sleep 1
  "$PY" -m bench.editor --slugs "$SLUGS" --edits $((MIXED_SECONDS - 3)) --run-id "$RUN_START$suffix" |
    "$PY" -m bench.checker --base "$base" --out "$WORK/checker$suffix.json" ||
    echo "bench: the editor or the checker failed; see above" >&2
  wait "$wrk_pid" || true
  printf 'redis_hits=%s\nredis_misses=%s\n' "$(($(redis_stat keyspace_hits) - h0))" \
    "$(($(redis_stat keyspace_misses) - m0))" >"$WORK/mixed-redis$suffix"
}
SLUGS=$("$PY" -c "import json; print(','.join(json.load(open('$WORK/targets.json'))['posts']))")
run_mixed "" "$CACHED"
log "mixed workload through Varnish: ${MIXED_SECONDS}s of reads, one edit a second, purged by tag"
run_mixed "-edge" "$VARNISH_URL"

# --- 7. Report --------------------------------------------------------------
log "report"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /)" >>"$WORK/params"
mkdir -p "$RESULTS_DIR"
HOST=$(hostname -s 2>/dev/null || true)
OUT="$RESULTS_DIR/$(date +%F)-${HOST:-local}.md"
{
  echo "python=$("$PY" -c 'import platform; print(platform.python_version())')"
  echo "django=$("$PY" -c 'import django; print(django.get_version())')"
  echo "gunicorn=$("$GUNICORN" --version 2>&1 | awk '{print $NF}' | tr -d ')')"
  echo "postgresql=$(psql -At "$DATABASE_URL" -c 'SHOW server_version' | awk '{print $1}')"
  echo "redis=$(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p')"
  echo "nginx=$("$NGINX" -v 2>&1 | sed 's|.*/||')"
  echo "varnish=$("$VARNISHD" -V 2>&1 | head -n1 | sed -n 's/.*varnish-\([0-9.]*\).*/\1/p')"
  echo "wrk=$(wrk -v 2>&1 | head -n1 | awk '{print $2}')"
  echo "kernel=$(uname -r)"
  if [ -n "${BENCH_COMMIT:-}" ]; then
    echo "commit=$BENCH_COMMIT"
  elif git rev-parse --git-dir >/dev/null 2>&1; then
    echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . || echo ' + uncommitted changes')"
  fi
} >"$WORK/versions"
BENCH_TOTAL_S=$(($(date +%s) - RUN_START)) "$PY" -m bench.report --work "$WORK" --out "$OUT"
cat "$OUT"
echo
echo "bench: wrote $OUT in $(($(date +%s) - RUN_START))s"
