#!/usr/bin/env bash
# Install what the edge tests and `make edge` run: Varnish with vmod xkey
# (varnish, varnish-modules) and Redis Sentinel (redis-sentinel), when missing.
set -euo pipefail

need=()
command -v varnishd >/dev/null || [ -x /usr/sbin/varnishd ] || need+=(varnish)
ls /usr/lib/*/varnish/vmods/libvmod_xkey.so >/dev/null 2>&1 || need+=(varnish-modules)
if [ "${1:-}" != --varnish-only ]; then
  command -v redis-sentinel >/dev/null || need+=(redis-sentinel)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-varnish: ${need[*]} missing; install them as root (apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "ensure-varnish: installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
