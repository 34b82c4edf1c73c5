#!/usr/bin/env bash
# Finds or fetches a consul binary for tests and the demo; prints its path as the last line of stdout.
# Order: $CONSUL_BIN, consul on PATH, <repo>/.cache/consul/consul, else Debian 11's package (apt sources untouched).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/debian-fetch.sh
. "$repo/deploy/lib/debian-fetch.sh"
cache_dir="$repo/.cache/consul"
cached="$cache_dir/consul"

log() { echo "provision-consul: $*" >&2; }

works() { "$1" version >/dev/null 2>&1; }

if [ -n "${CONSUL_BIN:-}" ]; then
  if works "$CONSUL_BIN"; then echo "$CONSUL_BIN"; exit 0; fi
  log "CONSUL_BIN=$CONSUL_BIN does not run ('consul version' failed)"; exit 1
fi

if on_path="$(command -v consul 2>/dev/null)" && works "$on_path"; then echo "$on_path"; exit 0; fi

if [ -x "$cached" ] && works "$cached"; then echo "$cached"; exit 0; fi

if ! can_fetch_from_debian; then
  log "no consul binary found. Install Consul 1.8+ (https://developer.hashicorp.com/consul/install)"
  log "and put it on PATH, or set CONSUL_BIN=/path/to/consul."
  exit 1
fi

# One fetch at a time: concurrent test processes wait here, then find the cached binary.
hold_cache_lock "$cache_dir"
if [ -x "$cached" ] && works "$cached"; then echo "$cached"; exit 0; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
debian_extract bullseye consul "$d/x" || { log "could not fetch consul from Debian"; exit 1; }
if ! works "$d/x/usr/bin/consul"; then log "extracted consul does not run"; exit 1; fi

# Copy next to the target, then rename: readers never see a half-written binary.
cp "$d/x/usr/bin/consul" "$cached.tmp.$$"
chmod 0755 "$cached.tmp.$$"
mv -f "$cached.tmp.$$" "$cached"
log "installed $("$cached" version | head -n1) at $cached"
echo "$cached"
