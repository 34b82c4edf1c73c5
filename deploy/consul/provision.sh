#!/usr/bin/env bash
# Finds or fetches a consul binary for tests and the demo; prints its path as the last line of stdout.
# Order: $CONSUL_BIN, consul on PATH, <repo>/.cache/consul/consul, else Debian 11's package (apt sources untouched).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
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

if [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  log "no consul binary found. Install Consul 1.8+ (https://developer.hashicorp.com/consul/install)"
  log "and put it on PATH, or set CONSUL_BIN=/path/to/consul."
  exit 1
fi

mkdir -p "$cache_dir"
# One fetch at a time: concurrent test processes wait here, then find the cached binary.
exec 9>"$cache_dir/.lock"
flock 9
if [ -x "$cached" ] && works "$cached"; then echo "$cached"; exit 0; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/lists/partial" "$d/etc" "$d/archives/partial"

uri=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  uri="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
fi
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  uri="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)"
fi
uri="${uri:-http://deb.debian.org/debian}"

printf 'Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" >"$d/etc/bullseye.sources"
o=(-q "-oDir::State::Lists=$d/lists" "-oDir::Etc::SourceList=/dev/null" "-oDir::Etc::SourceParts=$d/etc"
   "-oDir::Cache::Archives=$d/archives" "-oDebug::NoLocking=1")

log "fetching consul from Debian 11 (bullseye) at $uri ..."
apt-get "${o[@]}" update >&2
(cd "$d" && apt-get "${o[@]}" download consul >&2)
deb="$(ls "$d"/consul_*.deb 2>/dev/null | head -n1)"
if [ -z "$deb" ]; then log "apt-get download consul produced no .deb"; exit 1; fi
dpkg -x "$deb" "$d/x"
if ! works "$d/x/usr/bin/consul"; then log "extracted consul does not run"; exit 1; fi

# Copy next to the target, then rename: readers never see a half-written binary.
cp "$d/x/usr/bin/consul" "$cached.tmp.$$"
chmod 0755 "$cached.tmp.$$"
mv -f "$cached.tmp.$$" "$cached"
log "installed $("$cached" version | head -n1) at $cached"
echo "$cached"
