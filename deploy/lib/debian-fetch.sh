# Sourced by the deploy/**/provision*.sh scripts: fetch Debian packages from the mirror apt already uses, for any suite,
# and unpack them, without touching the system's apt sources, lists or dpkg state (nothing is installed).

# debian_extract SUITE PACKAGE DIR [PACKAGE...]: unpacks each PACKAGE from SUITE (e.g. bullseye, bookworm) into DIR
# (DIR/usr/bin/...), with one fetch of the suite's package list for all of them. No dependency is resolved: a caller
# names every package it needs.
debian_extract() {
  local suite="$1" dest="$3" d uri="" deb pkg
  local pkgs=("$2" "${@:4}")
  d="$(mktemp -d)"
  mkdir -p "$d/lists/partial" "$d/etc" "$d/archives/partial"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list)"
  fi
  uri="${uri:-http://deb.debian.org/debian}"
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" "$suite" >"$d/etc/$suite.sources"
  local o=(-q "-oDir::State::Lists=$d/lists" "-oDir::Etc::SourceList=/dev/null" "-oDir::Etc::SourceParts=$d/etc"
    "-oDir::Cache::Archives=$d/archives" "-oDebug::NoLocking=1")
  echo "fetching ${pkgs[*]} from Debian ($suite) at $uri ..." >&2
  if ! apt-get "${o[@]}" update >&2 || ! (cd "$d" && apt-get "${o[@]}" download "${pkgs[@]}" >&2); then rm -rf "$d"; return 1; fi
  for pkg in "${pkgs[@]}"; do
    deb="$(ls "$d"/"${pkg}"_*.deb 2>/dev/null | head -n1)"
    if [ -z "$deb" ]; then echo "apt-get download $pkg produced no .deb" >&2; rm -rf "$d"; return 1; fi
    dpkg -x "$deb" "$dest"
  done
  rm -rf "$d"
}

# can_fetch_from_debian: whether debian_extract can work here (a Debian machine with apt-get and dpkg).
can_fetch_from_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

# hold_cache_lock DIR: creates DIR and holds DIR/.lock (fd 9) until the script exits. One fetch at a time: a
# concurrent caller waits here, then finds what the first one put in the cache (each script checks again after this).
hold_cache_lock() {
  mkdir -p "$1"
  exec 9>"$1/.lock"
  flock 9
}
