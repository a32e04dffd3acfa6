#!/usr/bin/env bash
# Debian Chromium, a Java runtime, and the npm packages the browser and HTML
# tests use: axe-core (accessibility) and vnu-jar (the W3C Nu HTML checker).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -gt 0 ]; then
  echo "ensure-browser: installing ${need[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -f node_modules/axe-core/axe.min.js ] || [ ! -f node_modules/vnu-jar/build/dist/vnu.jar ]; then
  # No install scripts: vnu-jar's would download a JDK, and Debian's Java is used instead.
  npm ci --silent --no-audit --no-fund --ignore-scripts
fi
