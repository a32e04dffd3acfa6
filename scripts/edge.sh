#!/usr/bin/env bash
# `make edge`: the app (gunicorn on PORT, as `make run`) with Varnish in front on
# EDGE_PORT (default 8080), using deploy/varnish/default.vcl. Writes purge
# Varnish by tag (EDGE_PURGE_URLS). Varnish works in a private directory and
# stops with the app: Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8000}
EDGE_PORT=${EDGE_PORT:-8080}
BIN=${BIN:-.venv/bin}
scripts/ensure-varnish.sh --varnish-only
VARNISHD=$(command -v varnishd || echo /usr/sbin/varnishd)

WORK=$(mktemp -d /tmp/blogsite-edge.XXXXXX)
chmod 755 "$WORK"  # Varnish's worker runs as its own user and reads the VCL here
cp deploy/varnish/default.vcl "$WORK/"
"$BIN/python" scripts/varnish-site-vcl.py --backend "127.0.0.1:$PORT" --probe /healthz \
  ${EDGE_PURGERS:+$(printf -- '--purger %s ' ${EDGE_PURGERS//,/ })} >"$WORK/site.vcl"

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$VARNISHD" -F -n "$WORK/n" -a "127.0.0.1:$EDGE_PORT" -T 127.0.0.1:0 \
  -f "$WORK/default.vcl" -p "vcl_path=$WORK" -s malloc,128m &
PIDS+=($!)

export EDGE_PURGE_URLS="${EDGE_PURGE_URLS:-http://127.0.0.1:$EDGE_PORT}"
"$BIN/gunicorn" blogsite.wsgi -c gunicorn.conf.py &
PIDS+=($!)
echo "edge: Varnish on http://127.0.0.1:$EDGE_PORT -> gunicorn on http://127.0.0.1:$PORT (Ctrl-C stops both)"
# Whichever stops first stops the other (the trap).
wait -n "${PIDS[@]}"
