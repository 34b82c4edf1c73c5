// The route table: compiled once per snapshot from route matches, then asked on every request which route wins.
// Routes are indexed by host tier, then by path (path-index.ts), so match() never scans the route list.

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
import { compareRoutes, compileRoute } from "./compiled-route.ts";
import { addToPathIndex, createPathIndex, matchPathIndex, type PathIndex } from "./path-index.ts";

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

// How the precedence above is laid out: the host rank picks a sequence of tiers (the request host's own routes, then
// each wildcard suffix covering it, longest first, then any-host routes), and each tier's PathIndex applies the path
// rank. Conditions and declaration order are the order routes are added in, so every list is born sorted.
//
// A route listing several hosts sits in several tiers and may be tried more than once for one request. That is the
// "counts once, at its best rank" rule for free: the first try is at its best rank, and a later try of the same route
// on the same request can only fail again (its conditions are pure functions of the request).
export function buildRouteTable<T>(entries: ReadonlyArray<RouteEntry<T>>): RouteTable<T> {
  const exactHosts = new Map<string, PathIndex<T>>();
  const wildcards = new Map<string, PathIndex<T>>(); // by suffix, ".example.com" for "*.example.com"
  let anyHost: PathIndex<T> | undefined;

  const compiled = entries.map((entry, index) => ({ route: compileRoute(entry, index), match: entry.match }));
  compiled.sort((a, b) => compareRoutes(a.route, b.route));
  for (const { route, match } of compiled) {
    const hosts = (match?.host ?? []).map((h) => h.trim().toLowerCase());
    if (hosts.length === 0 || hosts.includes("*")) {
      addToPathIndex((anyHost ??= createPathIndex()), route, match?.path);
      continue;
    }
    for (const host of new Set(hosts)) {
      const tiers = host.startsWith("*.") ? wildcards : exactHosts;
      const key = host.startsWith("*.") ? host.slice(1) : host;
      let tier = tiers.get(key);
      if (tier === undefined) tiers.set(key, (tier = createPathIndex()));
      addToPathIndex(tier, route, match?.path);
    }
  }

  // A host with routes of its own gets its tier sequence now, not per request; the tiers are shared, never copied,
  // so a thousand hosts next to a thousand any-host routes cost a thousand short arrays.
  const byHost = new Map<string, ReadonlyArray<PathIndex<T>>>();
  for (const [host, own] of exactHosts) {
    const tiers = [own];
    firstWildcard(wildcards, host, collect, tiers);
    if (anyHost !== undefined) tiers.push(anyHost);
    byHost.set(host, tiers);
  }
  const any = anyHost;

  return {
    match(head) {
      const tiers = byHost.get(head.host);
      if (tiers !== undefined) {
        for (let i = 0; i < tiers.length; i++) {
          const found = matchPathIndex(tiers[i] as PathIndex<T>, head);
          if (found !== undefined) return found;
        }
        return undefined;
      }
      // Any other host: the wildcard tiers covering it, looked up by its own suffixes, then the any-host routes.
      const found = wildcards.size === 0 ? undefined : firstWildcard(wildcards, head.host, matchPathIndex<T>, head);
      return found ?? (any === undefined ? undefined : matchPathIndex(any, head));
    },
  };
}

/**
 * The first non-undefined `pick(tier, ctx)` over the wildcard tiers covering `host`, longest suffix first.
 * "*.example.com" covers a host ending in ".example.com" with at least one char before it: its suffixes starting at
 * a "." past the first char are exactly those, and there are as few of them as the host has labels.
 */
function firstWildcard<T, C, R>(
  wildcards: ReadonlyMap<string, PathIndex<T>>,
  host: string,
  pick: (tier: PathIndex<T>, ctx: C) => R | undefined,
  ctx: C,
): R | undefined {
  for (let dot = host.indexOf(".", 1); dot !== -1; dot = host.indexOf(".", dot + 1)) {
    const tier = wildcards.get(host.slice(dot));
    if (tier === undefined) continue;
    const found = pick(tier, ctx);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A `pick` that never picks: gathers every covering tier, in order. */
function collect<T>(tier: PathIndex<T>, into: Array<PathIndex<T>>): undefined {
  into.push(tier);
  return undefined;
}
