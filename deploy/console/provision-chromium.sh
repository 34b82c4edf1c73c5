#!/usr/bin/env bash
# Finds or fetches a headless Chromium for the console's browser test; prints the path of a launcher as the last line.
# Order: $CHROMIUM_BIN, chromium on PATH, <repo>/.cache/chromium/chromium, else Debian's package and its missing libraries.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../lib/debian-fetch.sh
. "$repo/deploy/lib/debian-fetch.sh"
cache_dir="$repo/.cache/chromium"
launcher="$cache_dir/chromium"

log() { echo "provision-chromium: $*" >&2; }

# --version runs the binary with every shared library it links: a launcher that prints it can also render.
works() { [ -n "$1" ] && [ -x "$1" ] && "$1" --version 2>/dev/null | grep -qi chrom; }

if [ -n "${CHROMIUM_BIN:-}" ]; then
  if works "$CHROMIUM_BIN"; then echo "$CHROMIUM_BIN"; exit 0; fi
  log "CHROMIUM_BIN=$CHROMIUM_BIN does not run ('--version' failed)"; exit 1
fi
for c in chromium chromium-browser; do
  if on_path="$(command -v "$c" 2>/dev/null)" && works "$on_path"; then echo "$on_path"; exit 0; fi
done
if works "$launcher"; then echo "$launcher"; exit 0; fi

if ! can_fetch_from_debian; then
  log "no chromium found. Install it ('apt-get install chromium' on Debian) or set CHROMIUM_BIN=/path/to/chromium."
  exit 1
fi

# One fetch at a time: a concurrent test waits here, then finds the cached launcher.
hold_cache_lock "$cache_dir"
if works "$launcher"; then echo "$launcher"; exit 0; fi

d="$(mktemp -d)"
trap 'rm -rf "$d"' EXIT
mkdir -p "$d/lists/partial" "$d/etc" "$d/archives/partial"
# The machine's own Debian sources (chromium's security updates live in <suite>-security), with lists of our own:
# apt's state, sources and dpkg's database stay untouched, and nothing is installed.
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then cp /etc/apt/sources.list.d/*.sources "$d/etc/"; fi
if [ -f /etc/apt/sources.list ]; then cp /etc/apt/sources.list "$d/etc/sources.list"; else : >"$d/etc/sources.list"; fi
o=(-q "-oDir::State::Lists=$d/lists" "-oDir::Etc::SourceList=$d/etc/sources.list" "-oDir::Etc::SourceParts=$d/etc"
  "-oDir::Cache::Archives=$d/archives" "-oDebug::NoLocking=1")
log "fetching chromium from Debian (the package and the libraries this machine lacks) ..."
apt-get "${o[@]}" update >&2 || { log "apt-get update failed"; exit 1; }
# What `apt-get install` would add to this machine: exactly the packages to unpack next to chromium.
mapfile -t pkgs < <(apt-get "${o[@]}" -s install --no-install-recommends chromium fonts-liberation 2>/dev/null | awk '/^Inst /{print $2}')
if [ "${#pkgs[@]}" -eq 0 ]; then log "apt-get found nothing to fetch for chromium"; exit 1; fi
(cd "$d/archives" && apt-get "${o[@]}" download "${pkgs[@]}" >&2) || { log "apt-get download failed"; exit 1; }
root="$cache_dir/root.tmp.$$"
rm -rf "$root"
mkdir -p "$root"
for deb in "$d"/archives/*.deb; do dpkg -x "$deb" "$root"; done
if [ ! -x "$root/usr/lib/chromium/chromium" ]; then log "the chromium package has no usr/lib/chromium/chromium"; exit 1; fi
rm -rf "$cache_dir/root"
mv "$root" "$cache_dir/root"
root="$cache_dir/root"

# Every unpacked library directory (pulseaudio keeps one in a subfolder), and a fontconfig that sees the fetched fonts.
libs="$(find "$root" -name '*.so*' -printf '%h\n' | sort -u | grep -v '/usr/lib/chromium' | paste -sd: -)"
cat >"$cache_dir/fonts.conf" <<CONF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>$root/usr/share/fonts</dir>
  <dir>/usr/share/fonts</dir>
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
  <include ignore_missing="yes">$root/etc/fonts/conf.d</include>
  <cachedir>$cache_dir/fontconfig-cache</cachedir>
</fontconfig>
CONF
cat >"$launcher.tmp.$$" <<SH
#!/bin/sh
# Written by deploy/console/provision-chromium.sh: Debian's chromium unpacked under $root, not installed.
export LD_LIBRARY_PATH="$libs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export FONTCONFIG_FILE="$cache_dir/fonts.conf"
exec "$root/usr/lib/chromium/chromium" "\$@"
SH
chmod 0755 "$launcher.tmp.$$"
mv -f "$launcher.tmp.$$" "$launcher"
if ! works "$launcher"; then log "the unpacked chromium does not run:"; "$launcher" --version >&2 || true; exit 1; fi
log "installed $("$launcher" --version 2>/dev/null) at $cache_dir (${#pkgs[@]} packages unpacked)"
echo "$launcher"
