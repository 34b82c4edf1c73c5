#!/usr/bin/env bash
# Finds or fetches wrk, the bench's load generator; prints the path of a runnable wrk as the last line of stdout.
# Order: $WRK_BIN, wrk on PATH, <repo>/.cache/wrk/wrk, else Debian 12's package. `--fetch` skips PATH (a private copy).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/debian-fetch.sh
. "$repo/deploy/lib/debian-fetch.sh"
cache_dir="$repo/.cache/wrk"
# A two-line wrapper, not the binary: Debian's wrk needs libluajit and libssl3, which come from the cache, and `exec`
# keeps the wrapper's PID as wrk's, so the bench still stops it by PID.
cached="$cache_dir/wrk"

log() { echo "provision-wrk: $*" >&2; }

# `wrk -v` loads the shared libraries, prints "wrk <version> ..." and exits 1 (it has no zero-status version flag).
works() {
  [ -n "$1" ] && [ -x "$1" ] || return 1
  local out
  out="$("$1" -v 2>&1 || true)"
  [[ "$out" == "wrk "* ]]
}

fetch=0
case "${1:-}" in
  --fetch) fetch=1 ;;
  "") ;;
  *) log "usage: provision-wrk.sh [--fetch]"; exit 2 ;;
esac

if [ -n "${WRK_BIN:-}" ]; then
  if works "$WRK_BIN"; then echo "$WRK_BIN"; exit 0; fi
  log "WRK_BIN=$WRK_BIN does not run ('wrk -v' failed)"; exit 1
fi
if [ "$fetch" = 0 ] && on_path="$(command -v wrk 2>/dev/null)" && works "$on_path"; then echo "$on_path"; exit 0; fi
if works "$cached"; then echo "$cached"; exit 0; fi

if ! can_fetch_from_debian; then
  log "no wrk found. Install wrk ('apt-get install wrk' on Debian/Ubuntu) and put it on PATH, or set WRK_BIN=/path/to/wrk."
  exit 1
fi

# One fetch at a time: a concurrent bench or test waits here, then finds the cached copy.
hold_cache_lock "$cache_dir"
if works "$cached"; then echo "$cached"; exit 0; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
# wrk's Depends in bookworm are libc6, libluajit-5.1-2 and libssl3. The two libraries come along every time, whether or
# not the system has them: one fetch, and one copy that runs the same on every machine. Nothing is installed: they sit
# in the cache's lib/, which only the wrapper puts on LD_LIBRARY_PATH.
debian_extract bookworm wrk "$d/x" libluajit-5.1-2 libssl3 || { log "could not fetch wrk from Debian"; exit 1; }
if [ ! -x "$d/x/usr/bin/wrk" ]; then log "the wrk package has no usr/bin/wrk"; exit 1; fi
mkdir -p "$d/lib"
find "$d/x" \( -type f -o -type l \) -name 'lib*.so*' -exec cp -P {} "$d/lib/" \;
missing="$(LD_LIBRARY_PATH="$d/lib" ldd "$d/x/usr/bin/wrk" | awk '/not found/{print $1}' | tr '\n' ' ')"
if [ -n "$missing" ]; then log "the fetched wrk still misses $missing"; exit 1; fi

# Into the cache under a temporary name, then renamed: readers never see a half-written copy (the wrapper last: it
# marks "done").
rm -rf "$cache_dir/bin" "$cache_dir/lib"
mkdir -p "$cache_dir/bin"
cp "$d/x/usr/bin/wrk" "$cache_dir/bin/wrk"
cp -rP "$d/lib" "$cache_dir/lib"
printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' "$cache_dir/lib" "$cache_dir/bin/wrk" >"$cached.tmp.$$"
chmod 0755 "$cached.tmp.$$"
if ! works "$cached.tmp.$$"; then
  log "fetched wrk does not run:"; "$cached.tmp.$$" -v >&2 || true; rm -f "$cached.tmp.$$"; exit 1
fi
mv -f "$cached.tmp.$$" "$cached"
log "installed $("$cached" -v 2>&1 | head -n1) at $cached"
echo "$cached"
