// Regression tests for the holes found from outside (issue "Hostile input at the edge"): path tricks, ambiguous
// requests, slow bodies, invented headers, bare 413s. Real processes, raw sockets; the app counts what reaches it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { TestMesh, startTestApp, rawRequest, statusOf } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const app = startTestApp("upstream");
let gatewayPort = 0;
let outboundPort = 0;

beforeAll(async () => {
  await mesh.startCa();
  gatewayPort = await freePort();
  const inboundPort = await freePort();
  const config = mesh.writeConfig({
    trustDomain: "mesh.local",
    limits: { maxBodyBytes: 1024, bodyIdleTimeout: "1s", bodyTimeout: "3s" },
    services: { upstream: { instances: [{ id: "u1", address: "127.0.0.1", port: inboundPort }] } },
    gateway: {
      name: "gateway",
      listeners: [{ name: "http", address: "127.0.0.1", port: gatewayPort }],
      routes: [{ name: "echo", match: { path: { prefix: "/echo" } }, action: { destinations: [{ service: "upstream" }] } }],
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
const portOf = (l: "gateway" | "outbound") => (l === "gateway" ? gatewayPort : outboundPort);
const hostOf = (l: "gateway" | "outbound") => (l === "gateway" ? "gateway.example" : "upstream");

/** Sends `raw`, expects `status`, and checks the app saw nothing. */
async function refused(port: number, raw: string, status: number): Promise<string> {
  const before = app.seen.length;
  const res = await rawRequest(port, raw);
  expect(statusOf(res)).toBe(status);
  await Bun.sleep(50);
  expect(app.seen.length).toBe(before);
  return res;
}

describe("path tricks never reach the app (gateway, prefix /echo)", () => {
  const cases: Array<[string, string]> = [
    ["servlet-style ..; segment", "/echo/..;/admin"],
    ["dot segment with a parameter", "/echo/.;/x"],
    ["raw # in the target", "/echo#x"],
    ["raw # in the query", "/echo?a=1#x"],
    ["overlong UTF-8 escape", "/echo/%c0%ae"],
    ["invalid UTF-8 byte escape", "/echo/%ff"],
    ["empty segment", "//echo"],
    ["empty segment inside", "/echo//x"],
    ["dot-dot segment", "/echo/../echo"],
  ];
  for (const [name, target] of cases) {
    test(name, async () => {
      const res = await refused(gatewayPort, h([`GET ${target} HTTP/1.1`, "Host: gateway.example", "Connection: close"]), 400);
      expect(res).toContain('"error":"');
    });
  }
  test("a clean path still passes and reaches the app unchanged", async () => {
    const res = await rawRequest(gatewayPort, h(["GET /echo/a%20b?x=1 HTTP/1.1", "Host: gateway.example", "Connection: close"]));
    expect(statusOf(res)).toBe(200);
    expect(app.seen.at(-1)!.path).toBe("/echo/a%20b?x=1");
  });
});

for (const listener of ["gateway", "outbound"] as const) {
  describe(`${listener}: ambiguous requests are refused with 400`, () => {
    test("two Host headers", async () => {
      await refused(portOf(listener), h(["GET /echo HTTP/1.1", `Host: ${hostOf(listener)}`, "Host: other"]), 400);
    });
    test("absolute-form authority differs from Host", async () => {
      await refused(portOf(listener), h([`GET http://other/echo HTTP/1.1`, `Host: ${hostOf(listener)}`]), 400);
    });
    test("lower-case method gets a status, not a silent close", async () => {
      await refused(portOf(listener), h(["get /echo HTTP/1.1", `Host: ${hostOf(listener)}`]), 400);
    });
    test("bare LF line endings", async () => {
      await refused(portOf(listener), `GET /echo HTTP/1.1\nHost: ${hostOf(listener)}\n\n`, 400);
    });
    test("413 carries the JSON error body", async () => {
      const res = await refused(portOf(listener), h(["POST /echo HTTP/1.1", `Host: ${hostOf(listener)}`, "Content-Length: 2000"]) + "a".repeat(2000), 413);
      const body = JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4)) as { error: string; status: number };
      expect(body).toMatchObject({ error: "body-too-large", status: 413 });
    });
    test("a chunked body over the limit gets 413 with the JSON error body", async () => {
      const res = await refused(portOf(listener), h(["POST /echo HTTP/1.1", `Host: ${hostOf(listener)}`, "Transfer-Encoding: chunked"]) + `7d0\r\n${"a".repeat(2000)}\r\n0\r\n\r\n`, 413);
      expect(res).toContain('"error":"body-too-large"');
    });
  });

  describe(`${listener}: nothing invented, nothing lost`, () => {
    test("no User-Agent or Accept reaches the app when the client sent none", async () => {
      const res = await rawRequest(portOf(listener), h(["GET /echo/plain HTTP/1.1", `Host: ${hostOf(listener)}`, "Connection: close"]));
      expect(statusOf(res)).toBe(200);
      const seen = app.seen.at(-1)!;
      expect(seen.path).toBe("/echo/plain");
      expect(seen.headers["user-agent"]).toBeUndefined();
      expect(seen.headers.accept).toBeUndefined();
      expect(seen.headers["x-mesh-absent"]).toBeUndefined();
    });
    test("the client's own User-Agent and Accept arrive unchanged", async () => {
      const res = await rawRequest(portOf(listener), h(["GET /echo/ua HTTP/1.1", `Host: ${hostOf(listener)}`, "User-Agent: curl/8", "Accept: text/plain", "Connection: close"]));
      expect(statusOf(res)).toBe(200);
      const seen = app.seen.at(-1)!;
      expect(seen.headers["user-agent"]).toBe("curl/8");
      expect(seen.headers.accept).toBe("text/plain");
    });
    test("a client cannot use x-mesh-absent to strip headers", async () => {
      const res = await rawRequest(portOf(listener), h(["GET /echo/absent HTTP/1.1", `Host: ${hostOf(listener)}`, "User-Agent: curl/8", "Accept: text/plain", "X-Mesh-Absent: user-agent, accept", "Connection: close"]));
      expect(statusOf(res)).toBe(200);
      const seen = app.seen.at(-1)!;
      expect(seen.headers["user-agent"]).toBe("curl/8");
      expect(seen.headers.accept).toBe("text/plain");
    });
  });

  describe(`${listener}: slow request bodies are bounded by the mesh`, () => {
    test("a body trickling one byte every 500 ms gets 408 at the total body timeout (3 s)", async () => {
      const started = performance.now();
      const sock = await slowClient(portOf(listener), h(["POST /echo HTTP/1.1", `Host: ${hostOf(listener)}`, "Content-Length: 100"]), 500);
      const res = await sock.response;
      const took = performance.now() - started;
      expect(statusOf(res)).toBe(408);
      expect(res).toContain('"error":"request-timeout"');
      expect(took).toBeGreaterThan(2500);
      expect(took).toBeLessThan(6000);
    }, 15_000);
    test("a body that stalls gets 408 at the body idle timeout (1 s)", async () => {
      const started = performance.now();
      const sock = await slowClient(portOf(listener), h(["POST /echo HTTP/1.1", `Host: ${hostOf(listener)}`, "Content-Length: 100"]) + "abc", 60_000);
      const res = await sock.response;
      const took = performance.now() - started;
      expect(statusOf(res)).toBe(408);
      expect(took).toBeGreaterThan(800);
      expect(took).toBeLessThan(3500);
    }, 15_000);
  });
}

describe("outbound listener as an HTTP forward proxy", () => {
  test("absolute-form with a matching Host is routed by that name", async () => {
    const res = await rawRequest(outboundPort, h(["GET http://upstream/fwd?q=1 HTTP/1.1", "Host: upstream", "Connection: close"]));
    expect(statusOf(res)).toBe(200);
    expect(app.seen.at(-1)!.path).toBe("/fwd?q=1");
  });
});

/** Writes a head, then one body byte every `everyMs` until the server answers or closes. */
async function slowClient(port: number, head: string, everyMs: number): Promise<{ response: Promise<string> }> {
  let out = "";
  let done: (s: string) => void = () => {};
  const response = new Promise<string>((r) => (done = r));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, d) {
        out += Buffer.from(d).toString("latin1");
      },
      close() {
        done(out);
      },
      error() {
        done(out);
      },
    },
  });
  sock.write(head);
  const timer = setInterval(() => sock.write("x"), everyMs);
  void response.then(() => clearInterval(timer));
  setTimeout(() => {
    clearInterval(timer);
    sock.end();
  }, 12_000);
  return { response };
}
