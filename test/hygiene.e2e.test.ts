// HTTP hygiene on real listeners (gateway edge, sidecar outbound): malformed requests get the named 4xx and
// never reach the app (the app counts what it receives); hop-by-hop headers are stripped both ways.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestMesh, startTestApp, rawRequest, statusOf } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const app = startTestApp("upstream", (req, seen) =>
  new Response(JSON.stringify({ ok: true, seen: seen.headers }), {
    headers: { "content-type": "application/json", connection: "x-secret-hop", "x-secret-hop": "leak", "keep-alive": "timeout=5" },
  }),
);
let gatewayPort = 0;
let outboundPort = 0;

beforeAll(async () => {
  await mesh.startCa();
  gatewayPort = await freePort();
  const inboundPort = await freePort();
  const config = mesh.writeConfig({
    trustDomain: "mesh.local",
    limits: { maxHeaderBytes: 4096, maxUriLength: 256, maxBodyBytes: 1024 },
    services: { upstream: { instances: [{ id: "u1", address: "127.0.0.1", port: inboundPort }] } },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "all", match: { path: { prefix: "/" } }, action: { destinations: [{ service: "upstream" }] } }],
    },
  });
  const sc = await mesh.startSidecar({ config, service: "upstream", appPort: app.port, inboundPort });
  outboundPort = sc.outboundPort;
  await mesh.startGateway(config);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  app.stop();
});

const h = (lines: string[]) => `${lines.join("\r\n")}\r\n\r\n`;

const CASES: Array<[string, string, number]> = [
  ["CL and TE together", h(["POST / HTTP/1.1", "Host: upstream", "Content-Length: 5", "Transfer-Encoding: chunked"]) + "0\r\n\r\n", 400],
  ["two different Content-Lengths", h(["POST / HTTP/1.1", "Host: upstream", "Content-Length: 5", "Content-Length: 6"]) + "hello", 400],
  ["two equal Content-Lengths", h(["POST / HTTP/1.1", "Host: upstream", "Content-Length: 5", "Content-Length: 5"]) + "hello", 400],
  ["invalid Content-Length", h(["POST / HTTP/1.1", "Host: upstream", "Content-Length: 5x"]) + "hello", 400],
  ["NUL in a header value", h(["GET / HTTP/1.1", "Host: upstream", "X-A: b\0c"]), 400],
  ["CR in a header value", h(["GET / HTTP/1.1", "Host: upstream", "X-A: b\rc"]), 400],
  ["space in a header name", h(["GET / HTTP/1.1", "Host: upstream", "X A: b"]), 400],
  ["encoded slash in the path", h(["GET /a%2Fb HTTP/1.1", "Host: upstream"]), 400],
  ["encoded backslash in the path", h(["GET /a%5cb HTTP/1.1", "Host: upstream"]), 400],
  ["encoded NUL in the path", h(["GET /a%00b HTTP/1.1", "Host: upstream"]), 400],
  ["headers over the limit", h(["GET / HTTP/1.1", "Host: upstream", `X-Big: ${"b".repeat(5000)}`]), 431],
  ["URI over the limit", h([`GET /${"u".repeat(400)} HTTP/1.1`, "Host: upstream"]), 414],
  ["declared body over the limit", h(["POST / HTTP/1.1", "Host: upstream", "Content-Length: 2000"]) + "a".repeat(2000), 413],
  ["chunked body over the limit", h(["POST / HTTP/1.1", "Host: upstream", "Transfer-Encoding: chunked"]) + `7d0\r\n${"a".repeat(2000)}\r\n0\r\n\r\n`, 413],
];

for (const listener of ["gateway", "outbound"] as const) {
  describe(`${listener} listener`, () => {
    for (const [name, raw, status] of CASES) {
      test(`${name} -> ${status}, never reaches the app`, async () => {
        const before = app.seen.length;
        const res = await rawRequest(listener === "gateway" ? gatewayPort : outboundPort, raw);
        expect(statusOf(res)).toBe(status);
        await Bun.sleep(20);
        expect(app.seen.length).toBe(before);
      });
    }

    test("hop-by-hop headers are stripped in both directions; identity headers are set by the mesh only", async () => {
      const port = listener === "gateway" ? gatewayPort : outboundPort;
      const res = await fetch(`http://127.0.0.1:${port}/hop`, {
        headers: { host: "upstream", connection: "x-drop-me", "x-drop-me": "1", "x-mesh-client-id": "spiffe://mesh.local/ns/default/svc/admin", "x-request-id": "req-123" },
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { seen: Record<string, string> };
      expect(body.seen["x-drop-me"]).toBeUndefined();
      expect(body.seen["x-mesh-client-id"]).toBe(listener === "gateway" ? "spiffe://mesh.local/ns/default/svc/gateway" : "spiffe://mesh.local/ns/default/svc/upstream");
      expect(body.seen["x-request-id"]).toBe("req-123");
      expect(body.seen["x-forwarded-for"]).toContain("127.0.0.1");
      expect(body.seen["x-forwarded-proto"]).toBe(listener === "gateway" ? "http" : "http");
      expect(res.headers.get("x-secret-hop")).toBeNull();
      expect(res.headers.get("keep-alive")).toBeNull();
      expect(res.headers.get("x-request-id")).toBe("req-123");
    });
  });
}

test("a malformed x-request-id is replaced by a fresh one", async () => {
  const res = await fetch(`http://127.0.0.1:${gatewayPort}/rid`, { headers: { "x-request-id": "bad id with spaces" } });
  const id = res.headers.get("x-request-id");
  expect(id).not.toBe("bad id with spaces");
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
});

test("no healthy endpoint fails fast with 503 and a JSON cause", async () => {
  const res = await fetch(`http://127.0.0.1:${outboundPort}/x`, { headers: { host: "nosuch" } });
  // An undeclared service has no route at all: 404, not a connection to whatever Host names.
  expect(res.status).toBe(404);
});
