// Differential test of the indexed route table against the linear scan it replaced, kept here as the reference:
// seeded random route sets (overlapping hosts, prefixes and conditions) and requests must pick the same route.
import { describe, expect, test } from "bun:test";
import type { RequestHead } from "../types.ts";
import type { RouteMatchConfig } from "../config/schema.ts";
import { buildRouteTable, type RouteEntry, type RouteHit } from "./route-table.ts";
import { anchoredRegex, compileHeaderMatch, compileQueryMatch, type Test } from "./match-conditions.ts";
import { mulberry32 } from "../../test/support/http1-fuzz-cases.ts";

// ---- The reference: the pre-index algorithm (every candidate of the host, sorted by the whole precedence, scanned).

type RefCandidate = { index: number; hit: RouteHit<string>; rank: number[]; test: Test; suffix: string | undefined };

function referenceTable(entries: ReadonlyArray<RouteEntry<string>>): (head: RequestHead) => RouteHit<string> | undefined {
  const exactHosts = new Map<string, RefCandidate[]>();
  const wildcards: RefCandidate[] = [];
  const anyHost: RefCandidate[] = [];
  entries.forEach((entry, index) => {
    const m = entry.match ?? {};
    const p = m.path;
    const tests: Test[] = [];
    let pathRank = 0;
    let pathLength = 0;
    let matchedPrefix: string | undefined;
    if (p && "exact" in p) [pathRank, matchedPrefix] = [3, p.exact], tests.push((h) => h.path === p.exact);
    else if (p && "prefix" in p) [pathRank, pathLength, matchedPrefix] = [2, p.prefix.length, p.prefix], tests.push((h) => h.path.startsWith(p.prefix));
    else if (p && "regex" in p) {
      const re = anchoredRegex(p.regex);
      pathRank = 1;
      tests.push((h) => re.test(h.path));
    }
    const methods = m.methods ?? [];
    if (methods.length > 0) tests.push((h) => methods.includes(h.method as never));
    tests.push(...(m.headers ?? []).map(compileHeaderMatch), ...(m.query ?? []).map(compileQueryMatch));
    const conditions = (m.headers?.length ?? 0) + (m.query?.length ?? 0) + (methods.length > 0 ? 1 : 0);
    const hit = { name: entry.name, value: entry.value, matchedPrefix, mergeSlashes: p?.mergeSlashes === true };
    const cand = (hostRank: number, suffix: string | undefined): RefCandidate => ({
      index, hit, suffix, test: (h) => tests.every((t) => t(h)), rank: [hostRank, suffix?.length ?? 0, pathRank, pathLength, conditions, -index],
    });
    const hosts = (m.host ?? []).map((h) => h.trim().toLowerCase());
    if (hosts.length === 0 || hosts.includes("*")) return void anyHost.push(cand(0, undefined));
    for (const host of new Set(hosts)) {
      if (host.startsWith("*.")) wildcards.push(cand(1, host.slice(1)));
      else exactHosts.set(host, [...(exactHosts.get(host) ?? []), cand(2, undefined)]);
    }
  });
  const covers = (host: string, suffix: string) => host.length > suffix.length && host.endsWith(suffix);
  const byRank = (a: RefCandidate, b: RefCandidate) => {
    for (let i = 0; i < a.rank.length; i++) if (a.rank[i] !== b.rank[i]) return (b.rank[i] as number) - (a.rank[i] as number);
    return 0;
  };
  return (head) => {
    const own = exactHosts.get(head.host);
    const list = own === undefined
      ? [...wildcards, ...anyHost]
      : [...own, ...wildcards.filter((w) => covers(head.host, w.suffix as string)).map((w) => ({ ...w, suffix: undefined })), ...anyHost];
    for (const c of list.sort(byRank)) {
      if (c.suffix !== undefined && !covers(head.host, c.suffix)) continue;
      if (c.test(head)) return c.hit;
    }
    return undefined;
  };
}

// ---- The generator: small alphabets so that hosts, prefixes and conditions overlap often.

type Rand = { int(n: number): number; pick<X>(xs: readonly X[]): X; chance(p: number): boolean };

function rand(seed: number): Rand {
  const next = mulberry32(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { int, pick: (xs) => xs[int(xs.length)] as (typeof xs)[number], chance: (p) => next() < p };
}

const CONFIG_HOSTS = ["a.example.com", "b.example.com", "example.com", "x.a.example.com", "other.org", "A.Example.COM", " b.example.com ", "*.example.com", "*.a.example.com", "*.com", "*.org", "*"];
const REQUEST_HOSTS = ["a.example.com", "b.example.com", "example.com", "x.a.example.com", "y.a.example.com", "z.example.com", "other.org", "q.other.org", "foo.com", "localhost", ".example.com", "a.b.example.com"];
const REGEXES = ["/a.*", "/[ab]+", "/a/.*", ".*b", "/(a|ab)/?", "/b?"];
const METHODS = [["GET"], ["POST", "GET"], ["PUT"], []] as const;

/** "/" then up to `max` chars of "ab/": "/a", "/ab", "/a/" and "/a/b" are prefixes of one another in every way. */
const randomPath = (r: Rand, max: number) => "/" + Array.from({ length: r.int(max + 1) }, () => r.pick(["a", "b", "/"])).join("");

function randomMatch(r: Rand): RouteMatchConfig | undefined {
  if (r.chance(0.05)) return undefined;
  const m: RouteMatchConfig = {};
  if (r.chance(0.8)) m.host = Array.from({ length: r.int(3) + 1 }, () => r.pick(CONFIG_HOSTS));
  else if (r.chance(0.5)) m.host = [];
  const kind = r.int(5);
  const mergeSlashes = r.chance(0.2) ? r.chance(0.5) : undefined;
  const path = randomPath(r, 3);
  if (kind === 0) m.path = { exact: path, mergeSlashes };
  else if (kind === 1) m.path = { prefix: r.chance(0.1) ? r.pick(["", "/"]) : path, mergeSlashes };
  else if (kind === 2) m.path = { regex: r.pick(REGEXES), mergeSlashes };
  if (r.chance(0.3)) m.methods = [...r.pick(METHODS)];
  if (r.chance(0.3)) {
    m.headers = Array.from({ length: r.int(2) + 1 }, () =>
      r.pick([
        { name: "x-a", exact: "1" }, { name: "X-B", prefix: "1" }, { name: "x-a", regex: "[0-9]+" }, { name: "x-b", present: true },
        { name: "x-a", present: false }, { name: "x-b" }, { name: "x-a", exact: "2", invert: true },
      ]));
  }
  if (r.chance(0.15)) m.query = [r.pick([{ name: "q", exact: "1" }, { name: "q", regex: "[12]" }, { name: "q", present: true }, { name: "q" }])];
  return m;
}

function randomHead(r: Rand): RequestHead {
  const headers = new Headers();
  if (r.chance(0.4)) headers.set("x-a", r.pick(["1", "2", "12", ""]));
  if (r.chance(0.4)) headers.set("x-b", r.pick(["1", "21", "x"]));
  const query = new URLSearchParams(r.pick(["", "", "q=1", "q=2", "q", "q=3"]));
  return { method: r.pick(["GET", "GET", "POST", "PUT", "DELETE"]), host: r.pick(REQUEST_HOSTS), path: randomPath(r, 5), headers, query };
}

/** A hit as the reference makes it: the table's hit is its compiled route, which carries its rank fields too. */
const hitFields = (h: RouteHit<string> | undefined): RouteHit<string> | undefined =>
  h === undefined ? undefined : { name: h.name, value: h.value, matchedPrefix: h.matchedPrefix, mergeSlashes: h.mergeSlashes };

describe("indexed route table = linear reference", () => {
  test("random route sets and requests pick the same route (300 sets x 60 requests)", () => {
    const mismatches: string[] = [];
    let matched = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rand(seed);
      const entries = Array.from({ length: r.int(40) + 1 }, (_, i) => ({ name: `r${i}`, match: randomMatch(r), value: `v${i}` }));
      const table = buildRouteTable(entries);
      const reference = referenceTable(entries);
      for (let i = 0; i < 60; i++) {
        const h = randomHead(r);
        const got = table.match(h);
        const want = reference(h);
        if (want !== undefined) matched++;
        if (JSON.stringify(hitFields(got)) !== JSON.stringify(want) && mismatches.length < 5) {
          const req = { host: h.host, path: h.path, method: h.method, "x-a": h.headers.get("x-a"), "x-b": h.headers.get("x-b"), query: `${h.query}` };
          mismatches.push(`seed ${seed}: ${JSON.stringify(req)} -> ${got?.name} (want ${want?.name}) in ${JSON.stringify(entries)}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(matched).toBeGreaterThan(6000); // the generator must exercise hits, not just misses
  });
});
