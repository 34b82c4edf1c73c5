// Unit tests for the route table: match kinds, precedence between overlapping routes, hosts and conditions.
// Precedence is what users depend on when routes overlap, so each ranking rule has its own case.
import { describe, expect, test } from "bun:test";
import type { RequestHead } from "../types.ts";
import type { RouteMatchConfig } from "../config/schema.ts";
import { buildRouteTable } from "./route-table.ts";

function head(path: string, opts: { host?: string; method?: string; headers?: Record<string, string>; query?: string } = {}): RequestHead {
  return {
    method: opts.method ?? "GET",
    host: opts.host ?? "mesh.local",
    path,
    headers: new Headers(opts.headers ?? {}),
    query: new URLSearchParams(opts.query ?? ""),
  };
}

function table(routes: Array<[string, RouteMatchConfig | undefined]>) {
  return buildRouteTable(routes.map(([name, match]) => ({ name, match, value: `v:${name}` })));
}

const name = (t: ReturnType<typeof table>, h: RequestHead) => t.match(h)?.name;

describe("path matching", () => {
  test("exact matches only the whole path", () => {
    const t = table([["a", { path: { exact: "/echo" } }]]);
    expect(name(t, head("/echo"))).toBe("a");
    expect(name(t, head("/echo/"))).toBeUndefined();
    expect(name(t, head("/echoes"))).toBeUndefined();
  });

  test("prefix is a plain string prefix; a trailing slash keeps it on a segment boundary", () => {
    const t = table([["a", { path: { prefix: "/echo" } }]]);
    for (const p of ["/echo", "/echo/x", "/echoes"]) expect(name(t, head(p))).toBe("a");
    expect(name(t, head("/ech"))).toBeUndefined();
    const s = table([["b", { path: { prefix: "/echo/" } }]]);
    expect(name(s, head("/echo/x"))).toBe("b");
    expect(name(s, head("/echoes"))).toBeUndefined();
    expect(name(s, head("/echo"))).toBeUndefined();
  });

  test("regex must match the whole path", () => {
    const t = table([["r", { path: { regex: "/users/[0-9]+" } }]]);
    expect(name(t, head("/users/42"))).toBe("r");
    expect(name(t, head("/users/42/edit"))).toBeUndefined();
    expect(name(t, head("/api/users/42"))).toBeUndefined();
    const alt = table([["r", { path: { regex: "/a|/b" } }]]);
    expect(name(alt, head("/a"))).toBe("r");
    expect(name(alt, head("/ab"))).toBeUndefined(); // anchoring covers the whole alternation
  });

  test("invalid regex throws at build time, not per request", () => {
    expect(() => table([["r", { path: { regex: "([" } }]])).toThrow();
  });

  test("no match config matches everything", () => {
    const t = table([["all", undefined]]);
    expect(name(t, head("/anything", { host: "x.y", method: "DELETE" }))).toBe("all");
  });

  test("matchedPrefix: prefix for prefix routes, whole path for exact, undefined otherwise", () => {
    const t = table([
      ["p", { path: { prefix: "/echo" } }],
      ["e", { path: { exact: "/exact" } }],
      ["r", { path: { regex: "/re.*" } }],
      ["n", undefined],
    ]);
    expect(t.match(head("/echo/x"))).toMatchObject({ name: "p", value: "v:p", matchedPrefix: "/echo", mergeSlashes: false });
    expect(t.match(head("/exact"))?.matchedPrefix).toBe("/exact");
    expect(t.match(head("/regex"))?.matchedPrefix).toBeUndefined();
    expect(t.match(head("/zzz"))?.matchedPrefix).toBeUndefined();
  });

  test("mergeSlashes is carried on the hit, for every path kind, and never changes what matches", () => {
    const t = table([
      ["p", { path: { prefix: "/echo/", mergeSlashes: true } }],
      ["e", { path: { exact: "/exact", mergeSlashes: true } }],
      ["r", { path: { regex: "/re.*", mergeSlashes: false } }],
    ]);
    expect(t.match(head("/echo/x"))?.mergeSlashes).toBe(true);
    expect(t.match(head("/exact"))?.mergeSlashes).toBe(true);
    expect(t.match(head("/regex"))?.mergeSlashes).toBe(false);
    expect(t.match(head("//echo/x"))).toBeUndefined(); // the table sees one path; merging is route-path.ts's call
  });

  test("prefixes are not segment-aware: ';' and any following char count as part of the segment", () => {
    // Documented behaviour (as in Envoy); route-path.ts refuses a ";" that would change the winner.
    const t = table([["admin", { path: { prefix: "/admin" } }]]);
    for (const p of ["/admin", "/admin/x", "/adminx", "/admin;x/secret"]) expect(name(t, head(p))).toBe("admin");
    const s = table([["admin", { path: { prefix: "/admin/" } }]]);
    expect(name(s, head("/admin;x/secret"))).toBeUndefined();
    expect(name(s, head("/adminx"))).toBeUndefined();
  });
});

describe("precedence", () => {
  test("exact beats prefix beats regex beats no path, regardless of declaration order", () => {
    const t = table([
      ["none", undefined],
      ["regex", { path: { regex: "/api/.*" } }],
      ["prefix", { path: { prefix: "/api/" } }],
      ["exact", { path: { exact: "/api/users" } }],
    ]);
    expect(name(t, head("/api/users"))).toBe("exact");
    expect(name(t, head("/api/other"))).toBe("prefix");
    expect(name(t, head("/elsewhere"))).toBe("none");
    const noPrefix = table([
      ["none", undefined],
      ["regex", { path: { regex: "/api/.*" } }],
    ]);
    expect(name(noPrefix, head("/api/x"))).toBe("regex");
  });

  test("longer prefix wins", () => {
    const t = table([
      ["short", { path: { prefix: "/" } }],
      ["mid", { path: { prefix: "/api" } }],
      ["long", { path: { prefix: "/api/v2" } }],
    ]);
    expect(name(t, head("/api/v2/x"))).toBe("long");
    expect(name(t, head("/api/v1/x"))).toBe("mid");
    expect(name(t, head("/web"))).toBe("short");
  });

  test("more conditions win over fewer at the same path rank", () => {
    const t = table([
      ["plain", { path: { prefix: "/api" } }],
      ["canary", { path: { prefix: "/api" }, headers: [{ name: "x-canary", exact: "1" }] }],
      ["canary-post", { path: { prefix: "/api" }, methods: ["POST"], headers: [{ name: "x-canary", exact: "1" }] }],
    ]);
    expect(name(t, head("/api/x"))).toBe("plain");
    expect(name(t, head("/api/x", { headers: { "x-canary": "1" } }))).toBe("canary");
    expect(name(t, head("/api/x", { method: "POST", headers: { "x-canary": "1" } }))).toBe("canary-post");
  });

  test("ties go to the first declared", () => {
    const t = table([
      ["first", { path: { prefix: "/api" } }],
      ["second", { path: { prefix: "/api" } }],
    ]);
    expect(name(t, head("/api"))).toBe("first");
  });

  test("host dominates path: exact host > wildcard (longer suffix first) > any host", () => {
    const t = table([
      ["any", { path: { exact: "/x" } }],
      ["wild-short", { host: ["*.com"], path: { prefix: "/" } }],
      ["wild-long", { host: ["*.example.com"], path: { prefix: "/" } }],
      ["exact-host", { host: ["api.example.com"], path: { prefix: "/" } }],
    ]);
    expect(name(t, head("/x", { host: "api.example.com" }))).toBe("exact-host");
    expect(name(t, head("/x", { host: "web.example.com" }))).toBe("wild-long");
    expect(name(t, head("/x", { host: "other.com" }))).toBe("wild-short");
    expect(name(t, head("/x", { host: "localhost" }))).toBe("any");
    expect(name(t, head("/y", { host: "localhost" }))).toBeUndefined();
  });

  test("an exact-host route that does not match falls through to wildcard and any-host routes", () => {
    const t = table([
      ["any", undefined],
      ["wild", { host: ["*.example.com"], path: { prefix: "/w" } }],
      ["exact-host", { host: ["api.example.com"], path: { exact: "/only" } }],
    ]);
    expect(name(t, head("/only", { host: "api.example.com" }))).toBe("exact-host");
    expect(name(t, head("/w/1", { host: "api.example.com" }))).toBe("wild");
    expect(name(t, head("/z", { host: "api.example.com" }))).toBe("any");
  });
});

describe("hosts", () => {
  test("case-insensitive config, any host when absent, empty or '*'", () => {
    const t = table([["a", { host: ["API.Example.COM"] }]]);
    expect(name(t, head("/", { host: "api.example.com" }))).toBe("a");
    expect(name(t, head("/", { host: "web.example.com" }))).toBeUndefined();
    expect(name(table([["e", { host: [] }]]), head("/", { host: "q" }))).toBe("e");
    expect(name(table([["s", { host: ["*"] }]]), head("/", { host: "q" }))).toBe("s");
  });

  test("wildcard needs at least one label before the suffix and spans several labels", () => {
    const t = table([["w", { host: ["*.example.com"] }]]);
    expect(name(t, head("/", { host: "a.example.com" }))).toBe("w");
    expect(name(t, head("/", { host: "a.b.example.com" }))).toBe("w");
    expect(name(t, head("/", { host: "example.com" }))).toBeUndefined();
    expect(name(t, head("/", { host: "badexample.com" }))).toBeUndefined();
  });

  test("a route with several hosts matches any of them", () => {
    const t = table([["m", { host: ["a.com", "b.com", "*.c.com"] }]]);
    for (const h of ["a.com", "b.com", "x.c.com"]) expect(name(t, head("/", { host: h }))).toBe("m");
    expect(name(t, head("/", { host: "d.com" }))).toBeUndefined();
  });
});

describe("conditions", () => {
  test("methods", () => {
    const t = table([["w", { methods: ["POST", "PUT"] }]]);
    expect(name(t, head("/", { method: "POST" }))).toBe("w");
    expect(name(t, head("/", { method: "PUT" }))).toBe("w");
    expect(name(t, head("/", { method: "GET" }))).toBeUndefined();
  });

  test("header exact / prefix / regex / present / absent", () => {
    const mk = (hm: NonNullable<RouteMatchConfig["headers"]>[number]) => table([["h", { headers: [hm] }]]);
    const exact = mk({ name: "X-Env", exact: "prod" });
    expect(name(exact, head("/", { headers: { "x-env": "prod" } }))).toBe("h");
    expect(name(exact, head("/", { headers: { "x-env": "production" } }))).toBeUndefined();
    expect(name(exact, head("/"))).toBeUndefined();

    const prefix = mk({ name: "user-agent", prefix: "curl/" });
    expect(name(prefix, head("/", { headers: { "user-agent": "curl/8.0" } }))).toBe("h");
    expect(name(prefix, head("/", { headers: { "user-agent": "Mozilla" } }))).toBeUndefined();

    const regex = mk({ name: "x-id", regex: "[0-9]+" });
    expect(name(regex, head("/", { headers: { "x-id": "123" } }))).toBe("h");
    expect(name(regex, head("/", { headers: { "x-id": "123a" } }))).toBeUndefined();

    const present = mk({ name: "authorization", present: true });
    expect(name(present, head("/", { headers: { authorization: "x" } }))).toBe("h");
    expect(name(present, head("/"))).toBeUndefined();

    const bare = mk({ name: "authorization" });
    expect(name(bare, head("/", { headers: { authorization: "" } }))).toBe("h");
    expect(name(bare, head("/"))).toBeUndefined();

    const absent = mk({ name: "authorization", present: false });
    expect(name(absent, head("/"))).toBe("h");
    expect(name(absent, head("/", { headers: { authorization: "x" } }))).toBeUndefined();
  });

  test("header invert", () => {
    const t = table([["h", { headers: [{ name: "x-env", exact: "prod", invert: true }] }]]);
    expect(name(t, head("/", { headers: { "x-env": "prod" } }))).toBeUndefined();
    expect(name(t, head("/", { headers: { "x-env": "dev" } }))).toBe("h");
    expect(name(t, head("/"))).toBe("h"); // absent header is "not prod"
    const notPresent = table([["h", { headers: [{ name: "x-debug", present: true, invert: true }] }]]);
    expect(name(notPresent, head("/"))).toBe("h");
    expect(name(notPresent, head("/", { headers: { "x-debug": "1" } }))).toBeUndefined();
  });

  test("all headers must match", () => {
    const t = table([["h", { headers: [{ name: "a", exact: "1" }, { name: "b", exact: "2" }] }]]);
    expect(name(t, head("/", { headers: { a: "1", b: "2" } }))).toBe("h");
    expect(name(t, head("/", { headers: { a: "1" } }))).toBeUndefined();
  });

  test("query exact / regex / present", () => {
    const t = table([
      ["exact", { query: [{ name: "v", exact: "2" }] }],
      ["regex", { query: [{ name: "id", regex: "[a-f]+" }] }],
      ["present", { query: [{ name: "debug", present: true }] }],
      ["bare", { query: [{ name: "flag" }] }],
    ]);
    expect(name(t, head("/", { query: "v=2" }))).toBe("exact");
    expect(name(t, head("/", { query: "v=3" }))).toBeUndefined();
    expect(name(t, head("/", { query: "id=beef" }))).toBe("regex");
    expect(name(t, head("/", { query: "id=beefy" }))).toBeUndefined();
    expect(name(t, head("/", { query: "debug" }))).toBe("present");
    expect(name(t, head("/", { query: "flag=" }))).toBe("bare");
    expect(name(t, head("/", { query: "x=1" }))).toBeUndefined();
  });

  test("empty table matches nothing", () => {
    expect(buildRouteTable([]).match(head("/"))).toBeUndefined();
  });
});

describe("index", () => {
  test("10,000 prefix routes on one host: first, middle and last route and a miss", () => {
    const svc = (i: number) => `/svc-${String(i).padStart(5, "0")}/`;
    const t = buildRouteTable(Array.from({ length: 10_000 }, (_, i) => ({ name: `r${i}`, match: { host: ["edge"], path: { prefix: svc(i) } }, value: i })));
    const at = (path: string, host = "edge") => t.match(head(path, { host }));
    expect(at(`${svc(0)}x`)).toMatchObject({ name: "r0", value: 0, matchedPrefix: "/svc-00000/", mergeSlashes: false });
    expect(at(`${svc(5_000)}a/b`)?.name).toBe("r5000");
    expect(at(svc(9_999))?.name).toBe("r9999");
    for (const miss of ["/svc-10000/x", "/svc-0042/", "/svc-00042", "/", "/nowhere"]) expect(at(miss)).toBeUndefined();
    expect(at(`${svc(1)}x`, "other")).toBeUndefined();
  });

  test("when the longest matching prefix's conditions fail, the next shorter prefix is tried", () => {
    const t = table([
      ["root", { path: { prefix: "/" } }],
      ["a", { path: { prefix: "/a" } }],
      ["ab-post", { path: { prefix: "/ab" }, methods: ["POST"] }],
      ["a-slash", { path: { prefix: "/a/" }, headers: [{ name: "x-a", exact: "1" }] }],
      ["abc-exact", { path: { exact: "/abc" }, methods: ["PUT"] }],
    ]);
    expect(name(t, head("/abc", { method: "PUT" }))).toBe("abc-exact");
    expect(name(t, head("/abc", { method: "POST" }))).toBe("ab-post");
    expect(name(t, head("/abc"))).toBe("a");
    expect(name(t, head("/a/x", { headers: { "x-a": "1" } }))).toBe("a-slash");
    expect(name(t, head("/a/x"))).toBe("a");
    expect(name(t, head("/b"))).toBe("root");
  });

  test("many hosts next to shared any-host routes: each host keeps its own winner, the rest fall through", () => {
    const routes: Array<[string, RouteMatchConfig | undefined]> = [];
    for (let h = 0; h < 200; h++) routes.push([`own-${h}`, { host: [`h${h}.example.com`], path: { prefix: "/own/" } }]);
    routes.push(["wild", { host: ["*.example.com"], path: { prefix: "/wild/" } }], ["any", { path: { prefix: "/" } }]);
    const t = table(routes);
    expect(name(t, head("/own/x", { host: "h7.example.com" }))).toBe("own-7");
    expect(name(t, head("/wild/x", { host: "h7.example.com" }))).toBe("wild");
    expect(name(t, head("/own/x", { host: "new.example.com" }))).toBe("any");
    expect(name(t, head("/wild/x", { host: "new.example.com" }))).toBe("wild");
    expect(name(t, head("/own/x", { host: "h7.example.org" }))).toBe("any");
  });
});
