#!/usr/bin/env bash
# Finds or fetches an nginx binary for the bench's `nginx` peer scenario; prints its path as the last line of stdout.
# Order: $NGINX_BIN, nginx on PATH, /usr/sbin/nginx, <repo>/.cache/nginx/usr/sbin/nginx, else Debian 12's package.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/debian-fetch.sh
. "$repo/deploy/lib/debian-fetch.sh"
cache_dir="$repo/.cache/nginx"
cached="$cache_dir/usr/sbin/nginx"

log() { echo "provision-nginx: $*" >&2; }

# `nginx -V` loads the shared libraries (pcre2, OpenSSL 3, zlib) and reads no config: a binary that prints its
# build options here will start with the bench's own config.
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" -V >/dev/null 2>&1; }

if [ -n "${NGINX_BIN:-}" ]; then
  if works "$NGINX_BIN"; then echo "$NGINX_BIN"; exit 0; fi
  log "NGINX_BIN=$NGINX_BIN does not run ('nginx -V' failed)"; exit 1
fi

if on_path="$(command -v nginx 2>/dev/null)" && works "$on_path"; then echo "$on_path"; exit 0; fi
# /usr/sbin is not on every user's PATH, but that is where Debian's nginx package puts it.
if works /usr/sbin/nginx; then echo /usr/sbin/nginx; exit 0; fi
if works "$cached"; then echo "$cached"; exit 0; fi

if ! can_fetch_from_debian; then
  log "no nginx binary found. Install nginx ('apt-get install nginx' on Debian/Ubuntu) and put it on PATH,"
  log "or set NGINX_BIN=/path/to/nginx."
  exit 1
fi

mkdir -p "$cache_dir/usr/sbin"
# One fetch at a time: a concurrent bench waits here, then finds the cached binary.
hold_cache_lock "$cache_dir"
if works "$cached"; then echo "$cached"; exit 0; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
# Only the binary is used: the bench writes its own config and passes -p/-c/-e, so nginx-common (the
# /etc/nginx files and the systemd unit) is not needed, and nothing is installed or started.
debian_extract bookworm nginx "$d/x" || { log "could not fetch nginx from Debian"; exit 1; }
if [ ! -f "$d/x/usr/sbin/nginx" ]; then log "the nginx package has no usr/sbin/nginx"; exit 1; fi
if ! works "$d/x/usr/sbin/nginx"; then
  log "extracted nginx does not run:"; "$d/x/usr/sbin/nginx" -V >&2 || true; exit 1
fi

# Copy next to the target, then rename: readers never see a half-written binary.
cp "$d/x/usr/sbin/nginx" "$cached.tmp.$$"
chmod 0755 "$cached.tmp.$$"
mv -f "$cached.tmp.$$" "$cached"
log "installed $("$cached" -v 2>&1 | head -n1) at $cached"
echo "$cached"
