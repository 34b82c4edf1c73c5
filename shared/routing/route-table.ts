// The route table: compiled once per snapshot from route matches, then asked on every request which route wins.
// Candidates are bucketed by exact host and pre-sorted by specificity, so match() is one map lookup + a linear scan.

// Semantics (documented here because config authors and the explain tool rely on them):
// - host: case-insensitive; "a.example.com" exact, "*.example.com" = any host ending in ".example.com" (one or more
//   labels, never "example.com" itself), "*" or an empty/absent list = any host. Request hosts arrive without port.
// - path: exact = whole path equal; prefix = plain string prefix like Envoy ("/echo" matches "/echo", "/echo/x" AND
//   "/echoes" — end the prefix with "/" to stay on a segment boundary); regex = must match the WHOLE path (anchored).
//   Paths are compared with the canonical path (see canonical-path.ts), so config paths should be canonical too.
//   ";" is an ordinary char here ("/admin" matches "/admin;x/secret"); route-path.ts refuses a request whose path
//   parameters would change the winning route, since servlet-style upstreams drop them before they route.
// - methods: exact, upper-case; HEAD does not implicitly match GET.
// - headers: value = Headers.get (repeated headers joined with ", "); exact/prefix/regex(whole value)/present are
//   ANDed; with none given the header must be present; `invert` negates the result (an absent header therefore
//   matches an inverted exact/prefix/regex).
// - query: first value of the parameter; exact/regex(whole value)/present ANDed; none given = must be present.
// - precedence: host exact > host wildcard (longer suffix first) > any host; then path exact > prefix (longer first)
//   > regex > no path; then more conditions (headers + query params + methods-list) first; ties: first declared.
import type { RequestHead } from "../types.ts";
import type { RouteMatchConfig } from "../config/schema.ts";
import { anchoredRegex, compileHeaderMatch, compileQueryMatch } from "./match-conditions.ts";
import type { Test } from "./match-conditions.ts";

export type RouteHit<T> = {
  readonly name: string;
  readonly value: T;
  /** For a prefix route the prefix; for an exact route the whole path (a rewrite replaces all of it); else undefined. */
  readonly matchedPrefix: string | undefined;
  /** The route's `match.path.mergeSlashes`: it accepts a path whose only flaw is "//" (see route-path.ts). */
  readonly mergeSlashes: boolean;
};

export type RouteTable<T> = {
  match(head: RequestHead): RouteHit<T> | undefined;
};

export type RouteEntry<T> = { readonly name: string; readonly match?: RouteMatchConfig; readonly value: T };

type CompiledRoute<T> = {
  readonly index: number;
  readonly hit: RouteHit<T>;
  readonly pathRank: number; // 3 exact, 2 prefix, 1 regex, 0 none
  readonly pathLength: number; // prefix length, for "longer prefix first"
  readonly conditions: number;
  readonly rest: Test; // path + methods + headers + query
};

type Candidate<T> = {
  readonly route: CompiledRoute<T>;
  readonly hostRank: number; // 2 exact, 1 wildcard, 0 any
  readonly suffixLength: number; // wildcard suffix length
  /** Only wildcard candidates in the fallback list need a host check at match time. */
  readonly wildcardSuffix: string | undefined;
};

export function buildRouteTable<T>(entries: ReadonlyArray<RouteEntry<T>>): RouteTable<T> {
  const exactHosts = new Map<string, Candidate<T>[]>();
  const wildcards: Candidate<T>[] = [];
  const anyHost: Candidate<T>[] = [];

  entries.forEach((entry, index) => {
    const route = compileRoute(entry, index);
    const hosts = (entry.match?.host ?? []).map((h) => h.trim().toLowerCase());
    if (hosts.length === 0 || hosts.includes("*")) {
      anyHost.push({ route, hostRank: 0, suffixLength: 0, wildcardSuffix: undefined });
      return;
    }
    for (const host of new Set(hosts)) {
      if (host.startsWith("*.")) {
        const suffix = host.slice(1); // ".example.com"
        wildcards.push({ route, hostRank: 1, suffixLength: suffix.length, wildcardSuffix: suffix });
      } else {
        let list = exactHosts.get(host);
        if (!list) exactHosts.set(host, (list = []));
        list.push({ route, hostRank: 2, suffixLength: 0, wildcardSuffix: undefined });
      }
    }
  });

  // Per exact host: its own routes, the wildcards that cover it (decided now, not per request), and any-host routes.
  const buckets = new Map<string, Candidate<T>[]>();
  for (const [host, own] of exactHosts) {
    const covering = wildcards.filter((w) => hostMatchesWildcard(host, w.wildcardSuffix as string));
    const list = [...own, ...covering.map((w) => ({ ...w, wildcardSuffix: undefined })), ...anyHost];
    buckets.set(host, dedupe(list.sort(compareCandidates)));
  }
  const fallback = dedupe([...wildcards, ...anyHost].sort(compareCandidates));

  return {
    match(head) {
      const list = buckets.get(head.host) ?? fallback;
      for (let i = 0; i < list.length; i++) {
        const c = list[i] as Candidate<T>;
        if (c.wildcardSuffix !== undefined && !hostMatchesWildcard(head.host, c.wildcardSuffix)) continue;
        if (c.route.rest(head)) return c.route.hit;
      }
      return undefined;
    },
  };
}

function hostMatchesWildcard(host: string, suffix: string): boolean {
  return host.length > suffix.length && host.endsWith(suffix);
}

function compareCandidates<T>(a: Candidate<T>, b: Candidate<T>): number {
  return (
    b.hostRank - a.hostRank ||
    b.suffixLength - a.suffixLength ||
    b.route.pathRank - a.route.pathRank ||
    b.route.pathLength - a.route.pathLength ||
    b.route.conditions - a.route.conditions ||
    a.route.index - b.route.index
  );
}

/** A route listing several hosts can land in one list more than once; only its best-ranked entry matters. */
function dedupe<T>(sorted: Candidate<T>[]): Candidate<T>[] {
  const seen = new Set<CompiledRoute<T>>();
  const out: Candidate<T>[] = [];
  for (const c of sorted) {
    // Wildcard entries in the fallback list are conditional on the host, so they cannot shadow each other.
    if (c.wildcardSuffix === undefined) {
      if (seen.has(c.route)) continue;
      seen.add(c.route);
    }
    out.push(c);
  }
  return out;
}

function compileRoute<T>(entry: RouteEntry<T>, index: number): CompiledRoute<T> {
  const m = entry.match ?? {};
  const tests: Test[] = [];
  let pathRank = 0;
  let pathLength = 0;
  let matchedPrefix: string | undefined;
  const path = m.path;
  if (path && "exact" in path) {
    const exact = path.exact;
    pathRank = 3;
    matchedPrefix = exact;
    tests.push((h) => h.path === exact);
  } else if (path && "prefix" in path) {
    const prefix = path.prefix;
    pathRank = 2;
    pathLength = prefix.length;
    matchedPrefix = prefix;
    if (prefix !== "" && prefix !== "/") tests.push((h) => h.path.startsWith(prefix));
  } else if (path && "regex" in path) {
    const re = anchoredRegex(path.regex);
    pathRank = 1;
    tests.push((h) => re.test(h.path));
  }
  if (m.methods && m.methods.length > 0) {
    const methods = new Set<string>(m.methods);
    tests.push((h) => methods.has(h.method));
  }
  for (const hm of m.headers ?? []) tests.push(compileHeaderMatch(hm));
  for (const qm of m.query ?? []) tests.push(compileQueryMatch(qm));
  const conditions = (m.headers?.length ?? 0) + (m.query?.length ?? 0) + (m.methods && m.methods.length > 0 ? 1 : 0);
  return {
    index,
    hit: { name: entry.name, value: entry.value, matchedPrefix, mergeSlashes: path?.mergeSlashes === true },
    pathRank,
    pathLength,
    conditions,
    rest: combine(tests),
  };
}

function combine(tests: Test[]): Test {
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0] as Test;
  if (tests.length === 2) {
    const [a, b] = tests as [Test, Test];
    return (h) => a(h) && b(h);
  }
  return (h) => {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as Test)(h)) return false;
    return true;
  };
}
