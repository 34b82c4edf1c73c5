// Wire-level tests of the inbound listener's HTTP/1.1 side over a real mTLS socket (node:tls client with a valid cert):
// malformed and smuggling-shaped requests are refused before the handler, framing and pipelining behave.

import { afterEach, describe, expect, test } from "bun:test";
import * as tls from "node:tls";
import { createCertificateAuthority } from "../../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../../shared/pki/workload.ts";
import { startMtlsServer } from "./inbound-server.ts";
import type { InboundLimits, MtlsServer, PeerIdentity } from "../ports.ts";

const TD = "wire.test";
const ca = await createCertificateAuthority({ trustDomain: TD });
const serverCreds = await issueWorkloadCredentials(ca, `spiffe://${TD}/ns/default/svc/api`);
const clientCreds = await issueWorkloadCredentials(ca, `spiffe://${TD}/ns/default/svc/caller`);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Handler = (req: Request, peer: PeerIdentity) => Promise<Response>;
const calls: Request[] = [];

async function serve(handler?: Handler, limits: Partial<InboundLimits> = {}): Promise<MtlsServer> {
  calls.length = 0;
  const server = await startMtlsServer({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => serverCreds,
    trustDomain: TD,
    limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000, idleTimeoutMs: 5000, maxBodyBytes: 4096, ...limits },
    handler: async (req, peer) => {
      calls.push(req);
      if (handler) return handler(req, peer);
      const body = req.body ? await req.text() : "";
      return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`);
    },
  });
  cleanups.push(() => server.close({ drainMs: 0 }));
  return server;
}

/** Sends raw bytes over mTLS and collects everything until the server closes or `untilMs` passes. */
async function raw(port: number, data: string | string[], untilMs = 1500): Promise<string> {
  const sock = tls.connect({ host: "127.0.0.1", port, key: clientCreds.keyPem, cert: clientCreds.certChainPem, ca: ca.trustBundlePem(), checkServerIdentity: () => undefined });
  cleanups.push(() => sock.destroy());
  let out = "";
  sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
  await new Promise<void>((resolve, reject) => {
    sock.once("secureConnect", () => resolve());
    sock.once("error", reject);
  });
  for (const part of Array.isArray(data) ? data : [data]) {
    sock.write(part);
    await Bun.sleep(20);
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, untilMs);
    sock.once("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
  return out;
}

describe("inbound HTTP/1.1 refusals never reach the handler", () => {
  const cases: Array<[string, string, number]> = [
    ["CL + TE", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400],
    ["duplicate Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400],
    ["obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", 400],
    ["bare LF", "GET / HTTP/1.1\nHost: a\n\n", 400],
    ["NUL in value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400],
    ["missing Host", "GET / HTTP/1.1\r\n\r\n", 400],
    ["bad chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400],
    ["oversize head", `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(5000)}\r\n\r\n`, 431],
    ["oversize head with no end in sight", `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(5000)}`, 431],
    // The Fetch Request constructor would upper-case it and forward "GET": refused instead.
    ["lower-case method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["absolute-form naming another host than Host", "GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400],
    ["declared body over maxBodyBytes", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", 413],
    ["chunked body over maxBodyBytes", `POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1388\r\n${"x".repeat(5000)}\r\n0\r\n\r\n`, 413],
  ];
  for (const [name, wire, status] of cases) {
    test(`${name} -> ${status}`, async () => {
      const s = await serve();
      const out = await raw(s.port, wire);
      expect(out.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      expect(out.toLowerCase()).toContain("connection: close");
      // Every refusal carries the core's JSON error shape (errors.ts), not an empty or text body.
      expect(JSON.parse(out.slice(out.indexOf("\r\n\r\n") + 4))).toMatchObject({ status });
      expect(calls.length).toBe(0);
    });
  }
});

describe("inbound HTTP/1.1 framing", () => {
  test("pipelined requests are answered in order on one connection", async () => {
    const s = await serve();
    const out = await raw(s.port, "GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out.match(/^HTTP\/1\.1 200 /gm)?.length).toBe(3);
    const [a, b, c] = ["GET /one ", "POST /two xyz", "GET /three "].map((x) => out.indexOf(x));
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(a!);
    expect(c).toBeGreaterThan(b!);
    expect(s.connectionsAccepted()).toBe(1);
  });

  test("a chunked request body split across writes is decoded", async () => {
    const s = await serve();
    const out = await raw(s.port, ["POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhel", "lo\r\n6\r\n world\r\n0\r\n\r\n"]);
    expect(out).toContain("POST /c hello world");
  });

  test("a streamed response without length goes out chunked", async () => {
    const s = await serve(async () => new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("abc")), c.close()) })));
    const out = await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out.toLowerCase()).toContain("transfer-encoding: chunked");
    expect(out.endsWith("3\r\nabc\r\n0\r\n\r\n")).toBe(true);
  });

  test("hop-by-hop response headers from the handler are stripped", async () => {
    const s = await serve(async () => new Response("ok", { headers: { "keep-alive": "timeout=1", "x-drop": "1", connection: "x-drop", upgrade: "h2c", "x-keep": "1" } }));
    const out = (await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toLowerCase();
    expect(out).toContain("x-keep: 1");
    expect(out).not.toContain("keep-alive:");
    expect(out).not.toContain("x-drop");
    expect(out).not.toContain("upgrade");
  });

  test("HEAD responses carry no body", async () => {
    const s = await serve(async () => new Response("hello", { headers: { "content-length": "5" } }));
    const out = await raw(s.port, "HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(out.toLowerCase()).toContain("content-length: 5");
    expect(out.endsWith("\r\n\r\n")).toBe(true);
  });

  test("Expect: 100-continue gets an interim response before the body is sent", async () => {
    const s = await serve();
    const out = await raw(s.port, ["PUT /e HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", "data"]);
    expect(out.startsWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ")).toBe(true);
    expect(out).toContain("PUT /e data");
  });

  test("a connection that never finishes its head is closed after headerTimeoutMs", async () => {
    const s = await serve(undefined, { headerTimeoutMs: 200 });
    const started = performance.now();
    const out = await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\n", 3000);
    expect(out).toBe("");
    expect(performance.now() - started).toBeLessThan(1500);
    expect(calls.length).toBe(0);
  });

  test("an idle keep-alive connection is closed after idleTimeoutMs", async () => {
    const s = await serve(undefined, { idleTimeoutMs: 300 });
    const started = performance.now();
    const out = await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 3000);
    expect(out.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a request body the handler never reads is drained, and the connection carries the next request", async () => {
    const s = await serve(async (req) => (new URL(req.url).pathname === "/deny" ? new Response("no", { status: 403 }) : new Response("yes")));
    const out = await raw(s.port, ["POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", "defghijGET /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    expect(out.startsWith("HTTP/1.1 403 ")).toBe(true);
    expect(out).toMatch(/HTTP\/1\.1 200 [\s\S]*yes/);
    expect(s.connectionsAccepted()).toBe(1);
  });

  test("a request body that stalls gets 408 after bodyIdleTimeoutMs, with the JSON error", async () => {
    const s = await serve(undefined, { bodyIdleTimeoutMs: 300 });
    const started = performance.now();
    const out = await raw(s.port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc", 3000);
    expect(out.startsWith("HTTP/1.1 408 ")).toBe(true);
    expect(out).toContain('"error":"request-timeout"');
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test("a request body that trickles past bodyTimeoutMs gets 408", async () => {
    const s = await serve(undefined, { bodyIdleTimeoutMs: 1000, bodyTimeoutMs: 400 });
    const out = await raw(s.port, ["POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n", ...Array.from({ length: 40 }, () => "x")], 3000);
    expect(out.startsWith("HTTP/1.1 408 ")).toBe(true);
  });

  test("a handler that throws yields 500 and closes", async () => {
    const s = await serve(async () => {
      throw new Error("boom");
    });
    const out = await raw(s.port, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(out.startsWith("HTTP/1.1 500 ")).toBe(true);
  });
});

describe("a TLS handshake that never finishes", () => {
  test("is closed after the header timeout (no socket held open by a silent or half-sent ClientHello)", async () => {
    const server = await serve(undefined, { headerTimeoutMs: 300 });
    const closedAfter = async (send: Uint8Array | undefined): Promise<number> => {
      const started = performance.now();
      let closed = 0;
      const sock = await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {}, close() { closed = performance.now() - started; } } });
      cleanups.push(() => sock.end());
      if (send !== undefined) sock.write(send);
      for (let i = 0; i < 60 && closed === 0; i++) await Bun.sleep(50);
      return closed;
    };
    // Nothing at all; then the first bytes of a TLS record (a ClientHello that never completes).
    for (const send of [undefined, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])]) {
      const ms = await closedAfter(send);
      expect(ms).toBeGreaterThan(0);
      expect(ms).toBeLessThan(2000);
    }
  });
});
