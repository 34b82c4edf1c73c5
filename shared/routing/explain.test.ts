// Unit tests for the dry-run routing helper: the winner is the real table's, and each loser says which condition failed.
// Runs on Bun and (through test/deno/) on Deno.
import { describe, expect, test } from "bun:test";
import type { RouteConfig } from "../config/schema.ts";
import { exampleRequest, explainRouting, meshRouteList } from "./explain.ts";

const routes: RouteConfig[] = meshRouteList([
  { name: "canary", match: { host: ["echo"], headers: [{ name: "x-canary", exact: "1" }] }, action: { destinations: [{ service: "echo", subset: "v2" }] } },
  { name: "admin", match: { host: ["echo"], path: { prefix: "/admin/" }, methods: ["POST"] }, action: { directResponse: { status: 403 } } },
  { name: "wild", match: { host: ["*.example.com"], query: [{ name: "q", exact: "x" }] }, action: { destinations: [{ service: "echo" }] } },
], ["echo"]);

const req = (host: string, target: string, headers: Record<string, string> = {}, method = "GET") => ({ method, host, target, headers: new Headers(headers) });

describe("explainRouting", () => {
  test("the winner is the table's; the others say why not, in precedence order", () => {
    const r = explainRouting(routes, req("echo", "/admin/x"));
    expect(r.ok && r.winner).toBe("default-echo");
    const byName = Object.fromEntries(r.candidates.map((c) => [c.name, c.failed]));
    expect(byName.admin).toBe("method GET is not one of POST");
    expect(byName.canary).toBe('header x-canary: = "1" fails on (absent)');
    expect(byName.wild).toContain('host "echo" is not one of *.example.com');
    // echo's own host tier first (admin has a path, so it ranks before the header-only canary), any-host never here.
    expect(r.candidates.map((c) => c.name)).toEqual(["admin", "canary", "default-echo", "wild"]);
  });

  test("a header condition that holds picks the canary; a route that also matches but ranks lower says so", () => {
    const r = explainRouting(routes, req("echo", "/", { "x-canary": "1" }));
    expect(r.ok && r.winner).toBe("canary");
    expect(r.candidates.find((c) => c.name === "default-echo")?.failed).toBe('matches, but "canary" ranks first');
  });

  test("wildcard host and query conditions; no route is undefined with reasons", () => {
    expect(explainRouting(routes, req("a.example.com:8080", "/?q=x")).ok).toBe(true);
    const miss = explainRouting(routes, req("a.example.com", "/?q=y"));
    expect(miss.ok && miss.winner).toBeUndefined();
    expect(miss.candidates.find((c) => c.name === "wild")?.failed).toBe('query q: = "x" fails on "y"');
  });

  test("a path the path policy refuses is refused before any route", () => {
    const r = explainRouting(routes, req("echo", "/a/../../etc"));
    expect(r.ok).toBe(false);
  });
});

describe("exampleRequest", () => {
  test("builds a request the route's match takes", () => {
    for (const r of routes) {
      const ex = exampleRequest(r.match);
      const got = explainRouting([r], { method: ex.method, host: ex.host, target: ex.target, headers: new Headers(ex.headers) });
      expect(got.ok && got.winner).toBe(r.name);
    }
  });
});
