// Unit tests of the core's downstream entry with a fake forwarder (pure logic, no sockets): route choice,
// refusals that never reach a forwarder, forwarded headers, and the reuse of an already-canonical request.
import { describe, expect, test } from "bun:test";
import { compileSnapshot } from "../build/compile.ts";
import { checkMeshData } from "../config/parse.ts";
import { readPlainYaml } from "../config/yaml-text.ts";
import { handleDownstream } from "./downstream.ts";
import { upstreamRequest } from "./messages.ts";
import { splitTarget, splitUrl } from "../http/url.ts";
import { createObservation, NO_OBSERVATION, type RequestEvent } from "../telemetry/observe.ts";
import type { AttemptEvent } from "../types.ts";

const CONFIG = `
limits: { maxUriLength: 100 }
services:
  echo: { mtls: disable, instances: [{ id: e1, address: 127.0.0.1, port: 1 }] }
gateway:
  listeners: [{ name: http, port: 0 }]
  routes:
    - { name: api, match: { path: { prefix: /api/ } }, action: { destinations: [{ service: echo }], rewrite: { prefix: /v1/ } } }
    - { name: echo, match: { path: { prefix: /echo, mergeSlashes: true } }, action: { destinations: [{ service: echo }] } }
    - { name: legacy, match: { path: { prefix: /legacy/, mergeSlashes: true } }, action: { destinations: [{ service: echo }], rewrite: { prefix: /old/ } } }
`;

function setup() {
  const sent: Request[] = [];
  const parsed = checkMeshData(readPlainYaml(CONFIG)?.data, "test.yaml");
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const snap = compileSnapshot(parsed.config, {
    version: 1,
    source: "test.yaml",
    forwarder: () => async (_e, _c, req) => {
      sent.push(req);
      return new Response("ok", { headers: { connection: "x-hop", "x-hop": "1", "keep-alive": "5" } });
    },
  });
  return { snap, sent };
}

const edge = { listener: "gateway/test", observe: NO_OBSERVATION, clientIp: "203.0.113.7", proto: "https", trustForwarded: false } as const;

describe("handleDownstream", () => {
  test("routes, rewrites, sets forwarded headers and a request id, strips hop-by-hop both ways", async () => {
    const { snap, sent } = setup();
    const req = new Request("http://shop.example/api/items?x=1", { headers: { connection: "x-drop", "x-drop": "1", "x-forwarded-proto": "http", "x-forwarded-for": "1.2.3.4" } });
    const r = await handleDownstream(req, snap, snap.gatewayRoutes, edge);
    expect(r.response.status).toBe(200);
    expect(r.route).toBe("api");
    expect(sent).toHaveLength(1);
    const up = sent[0]!;
    expect(splitUrl(up.url).pathname + splitUrl(up.url).search).toBe("/v1/items?x=1");
    expect(up.headers.get("x-drop")).toBeNull();
    expect(up.headers.get("x-forwarded-for")).toBe("203.0.113.7"); // the edge does not trust what the client claims
    expect(up.headers.get("x-forwarded-proto")).toBe("https");
    expect(up.headers.get("x-request-id")).toBe(r.requestId);
    expect(r.response.headers.get("x-hop")).toBeNull();
    expect(r.response.headers.get("keep-alive")).toBeNull();
    expect(r.response.headers.get("x-request-id")).toBe(r.requestId);
  });

  test("refusals never reach a forwarder: no route 404, bad path 400, long URI 414", async () => {
    const { snap, sent } = setup();
    const cases: Array<[string, number]> = [
      ["http://h/elsewhere", 404],
      ["http://h/api/a%2Fb", 400],
      [`http://h/api/${"x".repeat(200)}`, 414],
    ];
    for (const [url, status] of cases) {
      const r = await handleDownstream(new Request(url), snap, snap.gatewayRoutes, edge);
      expect(r.response.status).toBe(status);
      expect(((await r.response.json()) as { requestId: string }).requestId).toBe(r.requestId);
    }
    expect(sent).toHaveLength(0);
  });
});

describe("handleDownstream: path policy (docs/path-normalization.md)", () => {
  const pathOf = (req: Request) => splitUrl(req.url).pathname + splitUrl(req.url).search;

  test("a route with mergeSlashes accepts //echo//x and forwards /echo/x, query kept", async () => {
    const { snap, sent } = setup();
    const r = await handleDownstream(new Request("http://h//echo//x?q=1"), snap, snap.gatewayRoutes, edge);
    expect(r.response.status).toBe(200);
    expect(r.route).toBe("echo");
    expect(sent.map(pathOf)).toEqual(["/echo/x?q=1"]);
  });

  test("the merged path is what a prefix rewrite starts from", async () => {
    const { snap, sent } = setup();
    const r = await handleDownstream(new Request("http://h/legacy///a//b"), snap, snap.gatewayRoutes, edge);
    expect(r.response.status).toBe(200);
    expect(sent.map(pathOf)).toEqual(["/old/a/b"]);
  });

  test("a route without mergeSlashes refuses '//' with 400 invalid-path", async () => {
    const { snap, sent } = setup();
    for (const url of ["http://h/api//items", "http://h//api/items"]) {
      const r = await handleDownstream(new Request(url), snap, snap.gatewayRoutes, edge);
      expect(r.response.status).toBe(400);
      expect(r.response.headers.get("x-mesh-error")).toBe("invalid-path");
      expect(((await r.response.json()) as { message: string }).message).toContain("empty path segment");
    }
    expect(sent).toHaveLength(0);
  });

  test("the reported targets are refused before any route, even one that merges slashes", async () => {
    const { snap, sent } = setup();
    // Plain ".." and ".%2e" are not here: new Request() (WHATWG URL) resolves them before the core sees the URL;
    // canonical-path.test.ts covers them as the raw targets an HTTP/1.1 parser hands over.
    for (const url of ["http://h/echo/..;/admin", "http://h/echo#x", "http://h/echo?a=1#x", "http://h/echo/%c0%ae", "http://h/echo/%ff", "http://h//echo/%2e%2e;x/api"]) {
      const r = await handleDownstream(new Request(url), snap, snap.gatewayRoutes, edge);
      expect(r.response.status).toBe(400);
      expect(r.response.headers.get("x-mesh-error")).toBe("invalid-path");
    }
    expect(sent).toHaveLength(0);
  });

  test("with the raw target from the listener, dot-segments WHATWG URL would have resolved are refused", async () => {
    const { snap, sent } = setup();
    // new Request() turned "/echo/../api/x" into "/api/x"; the listener says what was really received.
    for (const target of ["/echo/../api/x", "/echo/%2e%2e/api/x", "/echo/.%2E/api/x?q=1", "/api/./x"]) {
      const req = new Request(`http://h${target}`);
      const r = await handleDownstream(req, snap, snap.gatewayRoutes, { ...edge, target });
      expect(r.response.status).toBe(400);
      expect(((await r.response.json()) as { message: string }).message).toContain("dot-segment");
    }
    expect(sent).toHaveLength(0);
    const ok = await handleDownstream(new Request("http://h//echo//x?q=1"), snap, snap.gatewayRoutes, { ...edge, target: "//echo//x?q=1" });
    expect(ok.response.status).toBe(200);
    expect(sent.map(pathOf)).toEqual(["/echo/x?q=1"]);
  });

  test("path parameters that would pick another route are refused; ones that keep it are forwarded as sent", async () => {
    const { snap, sent } = setup();
    const moved = await handleDownstream(new Request("http://h/api;v=2/items"), snap, snap.gatewayRoutes, edge);
    expect(moved.response.status).toBe(400); // literally no route; a servlet upstream would read /api/items
    const kept = await handleDownstream(new Request("http://h/echo/x;jsessionid=1"), snap, snap.gatewayRoutes, edge);
    expect(kept.response.status).toBe(200);
    expect(sent.map(pathOf)).toEqual(["/echo/x;jsessionid=1"]);
  });
});

describe("splitTarget", () => {
  test("splits at the first '?', leaves '#' where it is", () => {
    expect(splitTarget("/a/b")).toEqual({ pathname: "/a/b", search: "" });
    expect(splitTarget("/a?x=1?y")).toEqual({ pathname: "/a", search: "?x=1?y" });
    expect(splitTarget("/a#f?x")).toEqual({ pathname: "/a#f", search: "?x" });
    expect(splitTarget("/a?x#f")).toEqual({ pathname: "/a", search: "?x#f" });
  });
});

describe("upstreamRequest", () => {
  test("reuses the downstream request when its path is canonical and its headers were edited in place", () => {
    const req = new Request("http://h/a/b");
    expect(upstreamRequest(req, req.headers, "http://h", "/a/b", "/a/b", "")).toBe(req);
  });

  test("builds a new request with the canonical path and the same body otherwise", async () => {
    const req = new Request("http://h/a/%7Eb", { method: "POST", body: "payload" });
    const up = upstreamRequest(req, new Headers(req.headers), "http://h", "/a/~b", "/a/%7Eb", "?q=1");
    expect(up).not.toBe(req);
    expect(up.url).toBe("http://h/a/~b?q=1");
    expect(await up.text()).toBe("payload");
  });
});

describe("observation hook", () => {
  test("one request event per request and one attempt event per try, with route, cluster, endpoint and cause", async () => {
    const { snap } = setup();
    const observe = createObservation();
    const requests: RequestEvent[] = [];
    const attempts: AttemptEvent[] = [];
    const off = observe.subscribe({ request: (e) => requests.push(e), attempt: (e) => attempts.push(e) });
    const info = { ...edge, observe };
    await handleDownstream(new Request("http://shop.example/api/items?x=1", { headers: { "x-request-id": "r-1" } }), snap, snap.gatewayRoutes, info);
    await handleDownstream(new Request("http://h/elsewhere"), snap, snap.gatewayRoutes, info);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ listener: "gateway/test", method: "GET", path: "/api/items?x=1", status: 200, route: "api", cluster: "echo", endpoint: "e1", attempts: 1, requestId: "r-1", cause: undefined });
    expect(requests[1]).toMatchObject({ status: 404, cause: "no-route", route: undefined, attempts: 0 });
    expect(attempts).toEqual([expect.objectContaining({ requestId: "r-1", cluster: "echo", try: 1, status: 200, outcome: "success" })]);
    off();
    expect(observe.wantsRequests).toBe(false);
    await handleDownstream(new Request("http://shop.example/api/items"), snap, snap.gatewayRoutes, info);
    expect(requests).toHaveLength(2);
  });

  test("with nobody subscribed no event is built and the context carries no observer", async () => {
    const { snap } = setup();
    const r = await handleDownstream(new Request("http://shop.example/api/items"), snap, snap.gatewayRoutes, edge);
    expect(r.ctx?.observe).toBeUndefined();
    expect(() => NO_OBSERVATION.subscribe({})).toThrow();
  });
});
