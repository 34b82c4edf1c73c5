#!/usr/bin/env bash
# Finds or fetches prometheus + promtool for tests and the demo; prints "prometheus=PATH" and "promtool=PATH" as the last two lines of stdout.
# Order: $PROMETHEUS_BIN/$PROMTOOL_BIN, on PATH, <repo>/.cache/prometheus/, else Debian 12's package (apt sources untouched, nothing installed).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/debian-fetch.sh
. "$repo/deploy/lib/debian-fetch.sh"
cache_dir="$repo/.cache/prometheus"

log() { echo "provision-prometheus: $*" >&2; }

works() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1; }

found() { echo "prometheus=$1"; echo "promtool=$2"; exit 0; }

# 1. Explicit paths (both, or one of them with the other next to it).
if [ -n "${PROMETHEUS_BIN:-}" ] || [ -n "${PROMTOOL_BIN:-}" ]; then
  p="${PROMETHEUS_BIN:-$(dirname "${PROMTOOL_BIN}")/prometheus}"
  t="${PROMTOOL_BIN:-$(dirname "${PROMETHEUS_BIN}")/promtool}"
  if works "$p" && works "$t"; then found "$p" "$t"; fi
  log "PROMETHEUS_BIN=${PROMETHEUS_BIN:-} / PROMTOOL_BIN=${PROMTOOL_BIN:-}: '$p' and '$t' must both run ('--version' failed)"
  exit 1
fi

# 2. On PATH.
p="$(command -v prometheus 2>/dev/null || true)"
t="$(command -v promtool 2>/dev/null || true)"
if works "$p" && works "$t"; then found "$p" "$t"; fi

# 3. Fetched before.
if works "$cache_dir/prometheus" && works "$cache_dir/promtool"; then found "$cache_dir/prometheus" "$cache_dir/promtool"; fi

if ! can_fetch_from_debian; then
  log "no prometheus/promtool found. Install Prometheus 2.x (https://prometheus.io/download/, or 'apt-get install prometheus' on Debian/Ubuntu)"
  log "and put prometheus and promtool on PATH, or set PROMETHEUS_BIN=/path/to/prometheus PROMTOOL_BIN=/path/to/promtool."
  exit 1
fi

# One fetch at a time: concurrent test processes wait here, then find the cached binaries.
hold_cache_lock "$cache_dir"
if works "$cache_dir/prometheus" && works "$cache_dir/promtool"; then found "$cache_dir/prometheus" "$cache_dir/promtool"; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
# Debian 12 (bookworm) ships prometheus 2.42 with promtool; its Go binaries run on other Debian releases too.
debian_extract bookworm prometheus "$d/x" || { log "could not fetch prometheus from Debian"; exit 1; }
for b in prometheus promtool; do
  if ! works "$d/x/usr/bin/$b"; then log "extracted $b does not run"; exit 1; fi
done

# Copy next to the target, then rename: readers never see a half-written binary (promtool last: it marks "done").
for b in prometheus promtool; do
  cp "$d/x/usr/bin/$b" "$cache_dir/$b.tmp.$$"
  chmod 0755 "$cache_dir/$b.tmp.$$"
  mv -f "$cache_dir/$b.tmp.$$" "$cache_dir/$b"
done
log "installed $("$cache_dir/prometheus" --version 2>&1 | head -n1) at $cache_dir"
found "$cache_dir/prometheus" "$cache_dir/promtool"
