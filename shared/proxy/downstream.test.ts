// Unit tests of the core's downstream entry with a fake forwarder (pure logic, no sockets): route choice,
// refusals that never reach a forwarder, forwarded headers, and the reuse of an already-canonical request.
import { describe, expect, test } from "bun:test";
import { compileSnapshot } from "../config/compile.ts";
import { parseMeshConfig } from "../config/parse.ts";
import { handleDownstream, splitUrl, upstreamRequest } from "./downstream.ts";

const CONFIG = `
limits: { maxUriLength: 100 }
services:
  echo: { mtls: disable, instances: [{ id: e1, address: 127.0.0.1, port: 1 }] }
gateway:
  listeners: [{ name: http, port: 0 }]
  routes:
    - { name: api, match: { path: { prefix: /api/ } }, action: { destinations: [{ service: echo }], rewrite: { prefix: /v1/ } } }
`;

function setup() {
  const sent: Request[] = [];
  const parsed = parseMeshConfig(CONFIG, "test.yaml");
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

const edge = { clientIp: "203.0.113.7", proto: "https", trustForwarded: false } as const;

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
