// Unit tests for routeByPath: strict canonical routing, mergeSlashes honoured only by the route the merged path
// picks, and path parameters that would change the winner refused. No sockets: a table of plain string values.
import { describe, expect, test } from "bun:test";
import type { RouteMatchConfig } from "../config/schema.ts";
import { buildRouteTable } from "./route-table.ts";
import { routeByPath } from "./route-path.ts";

function table(routes: Array<[string, RouteMatchConfig | undefined]>) {
  return buildRouteTable(routes.map(([name, match]) => ({ name, match, value: name })));
}

const parts = { method: "GET", host: "h", headers: new Headers() };

/** "route-name path" when routed, "404 path" when no route, "400 reason" when refused. */
function route(t: ReturnType<typeof table>, pathname: string, search = ""): string {
  const r = routeByPath(t, parts.method, parts.host, parts.headers, pathname, search);
  if (!r.ok) return `400 ${r.reason}`;
  return `${r.hit?.name ?? "404"} ${r.head.path}`;
}

describe("routeByPath", () => {
  test("routes on the canonical path and hands back the head that was matched", () => {
    const t = table([["echo", { path: { prefix: "/echo/" }, query: [{ name: "q", exact: "1" }] }]]);
    expect(route(t, "/echo/%7Ex", "?q=1")).toBe("echo /echo/~x");
    expect(route(t, "/echo/x", "?q=2")).toBe("404 /echo/x");
    const r = routeByPath(t, parts.method, parts.host, parts.headers, "/echo/x", "?q=1");
    expect(r.ok && r.head.query.get("q")).toBe("1");
  });

  test("a path the policy refuses is 400 before any route is asked", () => {
    const t = table([["all", undefined]]);
    expect(route(t, "/echo/..;/admin")).toStartWith("400 dot-segment");
    expect(route(t, "/echo", "?x#y")).toStartWith("400 '#'");
    expect(route(t, "/%c0%ae")).toContain("not valid UTF-8");
  });

  test("'//' is routed as the merged path only when the route it picks opted in", () => {
    const t = table([
      ["legacy", { path: { prefix: "/legacy/", mergeSlashes: true } }],
      ["strict", { path: { prefix: "/strict/" } }],
    ]);
    expect(route(t, "//legacy//x///y")).toBe("legacy /legacy/x/y");
    expect(route(t, "/strict//x")).toStartWith("400 empty path segment");
    expect(route(t, "//nowhere")).toStartWith("400 empty path segment"); // a bad path is a 400, not a 404
  });

  test("extra slashes cannot steer a request past a stricter route to a catch-all that merges", () => {
    const t = table([
      ["admin", { path: { prefix: "/admin/" } }],
      ["catch-all", { path: { prefix: "/", mergeSlashes: true } }],
    ]);
    expect(route(t, "//admin/users")).toStartWith("400 empty path segment");
    expect(route(t, "//public//x")).toBe("catch-all /public/x");
  });

  test("path parameters that change the winning route are refused", () => {
    const t = table([
      ["admin", { path: { prefix: "/admin/" } }],
      ["exact", { path: { exact: "/login" } }],
      ["public", { path: { prefix: "/" } }],
    ]);
    expect(route(t, "/admin;x/secret")).toStartWith("400 path parameters");
    expect(route(t, "/admin%3Bx/secret")).toStartWith("400 path parameters");
    expect(route(t, "/;x/admin/secret")).toStartWith("400 path parameters");
    expect(route(t, "/login;jsessionid=1")).toStartWith("400 path parameters");
  });

  test("path parameters that keep the route are forwarded untouched", () => {
    const t = table([
      ["admin", { path: { prefix: "/admin" } }],
      ["public", { path: { prefix: "/" } }],
    ]);
    expect(route(t, "/admin;x/secret")).toBe("admin /admin;x/secret");
    expect(route(t, "/shop/cart;jsessionid=AB12")).toBe("public /shop/cart;jsessionid=AB12");
    const none = table([["only", { path: { exact: "/only" } }]]);
    expect(route(none, "/other;x")).toBe("404 /other;x"); // no route either way: a 404, not a 400
  });
});
