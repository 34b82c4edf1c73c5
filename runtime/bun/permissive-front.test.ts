// Wire-level tests of permissive mode over real sockets: one port answers plaintext (no identity) and mTLS (identity,
// same refusals as strict), bytes split or pipelined are not lost, limits apply, the mode switches live, close drains.

import { afterEach, describe, expect, test } from "bun:test";
import * as tls from "node:tls";
import { createCertificateAuthority } from "../../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../../shared/pki/workload.ts";
import { issueTestLeaf } from "../../test/support/pki-testing.ts";
import { startMtlsServer } from "./inbound-server.ts";
import { createMeshClient } from "./mesh-client.ts";
import type { InboundLimits, InboundMode, MtlsServer, TlsMaterial } from "../ports.ts";

const TD = "permissive.test";
const API = `spiffe://${TD}/ns/default/svc/api`;
const CALLER = `spiffe://${TD}/ns/default/svc/caller`;
const ca = await createCertificateAuthority({ trustDomain: TD });
const otherCa = await createCertificateAuthority({ trustDomain: TD });
const serverCreds = await issueWorkloadCredentials(ca, API);
const clientCreds = await issueWorkloadCredentials(ca, CALLER);

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Seen = { peer: string; path: string };

async function serve(mode: InboundMode, opts: { limits?: Partial<InboundLimits>; slow?: Promise<void> } = {}) {
  const seen: Seen[] = [];
  const refused: string[] = [];
  const answer = async (req: Request, peer: string): Promise<Response> => {
    const path = new URL(req.url).pathname;
    seen.push({ peer, path });
    if (path === "/slow") await opts.slow;
    const body = req.body ? await req.text() : "";
    return new Response(`${peer} ${req.method} ${path} ${body}`);
  };
  const server = await startMtlsServer({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => serverCreds,
    trustDomain: TD,
    limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000, idleTimeoutMs: 5000, maxBodyBytes: 4096, ...opts.limits },
    mode,
    handler: (req, peer) => answer(req, peer.spiffeId),
    plaintextHandler: (req) => answer(req, "(none)"),
    onRefused: (reason) => refused.push(reason),
  });
  cleanups.push(() => server.close({ drainMs: 0 }));
  return { server, seen, refused };
}

/** Plain TCP: writes the parts (20 ms apart) and collects everything until the server closes or `untilMs` passes. */
async function plain(port: number, parts: string[], untilMs = 1500): Promise<{ out: string; closed: boolean }> {
  let out = "";
  let closed = false;
  let done = (): void => {};
  const ended = new Promise<void>((r) => (done = r));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data: (_s, d) => void (out += Buffer.from(d).toString("latin1")),
      close: () => ((closed = true), done()),
      error: () => ((closed = true), done()),
    },
  });
  cleanups.push(() => sock.terminate());
  for (const p of parts) {
    sock.write(p);
    await Bun.sleep(20);
  }
  await Promise.race([ended, Bun.sleep(untilMs)]);
  return { out, closed };
}

/** mTLS with node:tls (any client certificate, or none): the response text, or the error that ended the handshake. */
async function overTls(port: number, creds: TlsMaterial | undefined, wire = "GET /tls HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"): Promise<string> {
  const sock = tls.connect({ host: "127.0.0.1", port, ca: ca.trustBundlePem(), checkServerIdentity: () => undefined, ...(creds ? { key: creds.keyPem, cert: creds.certChainPem } : {}) });
  cleanups.push(() => sock.destroy());
  let out = "";
  sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
  return new Promise((resolve) => {
    sock.once("secureConnect", () => sock.write(wire));
    sock.once("error", (e) => resolve(`error: ${e.message}`));
    sock.once("close", () => resolve(out));
  });
}

const mesh = () => {
  const c = createMeshClient({ credentials: () => clientCreds });
  cleanups.push(() => c.close());
  return c;
};
const send = (port: number, path: string) =>
  mesh().send({ id: "i", address: "127.0.0.1", port, tags: [], meta: {} }, API, new Request(`http://api${path}`), { signal: AbortSignal.timeout(5000), connectTimeoutMs: 2000 });

describe("permissive: one port, both kinds of caller", () => {
  test("plaintext is answered with no identity; mTLS on the same port carries the caller's SPIFFE id", async () => {
    const { server, seen } = await serve("permissive");
    const res = await fetch(`http://127.0.0.1:${server.port}/plain`);
    expect(await res.text()).toBe("(none) GET /plain ");
    const viaMesh = await send(server.port, "/mesh");
    expect(await viaMesh.text()).toBe(`${CALLER} GET /mesh `);
    expect(await overTls(server.port, clientCreds)).toContain(`${CALLER} GET /tls `);
    expect(seen.map((s) => s.peer)).toEqual(["(none)", CALLER, CALLER]);
    expect(server.connectionsAccepted()).toBe(2);
  });

  test("TLS callers are refused as in strict mode: no certificate, another CA, a leaf breaking the SVID rules", async () => {
    const { server, seen, refused } = await serve("permissive");
    const foreign = { ...(await issueWorkloadCredentials(otherCa, CALLER)), trustBundlePem: ca.trustBundlePem() };
    const otherDomain = { ...(await issueTestLeaf(ca, { uris: ["spiffe://evil.test/ns/default/svc/caller"] })), spiffeId: CALLER, trustBundlePem: ca.trustBundlePem() };
    for (const creds of [undefined, foreign, otherDomain]) {
      const out = await overTls(server.port, creds);
      expect(out).not.toContain("HTTP/1.1");
    }
    expect(seen).toEqual([]);
    expect(refused.some((r) => r.includes("peer certificate refused"))).toBe(true);
    // The port still serves both kinds afterwards.
    expect((await fetch(`http://127.0.0.1:${server.port}/ok`)).status).toBe(200);
  });

  test("bytes split across writes and pipelined requests are not lost, on either path", async () => {
    const { server } = await serve("permissive");
    const { out } = await plain(server.port, ["G", "ET /one HTTP/1.1\r\nHo", "st: a\r\n\r\nPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nxyzGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    expect(out.match(/^HTTP\/1\.1 200 /gm)?.length).toBe(3);
    expect(out).toContain("(none) POST /two xyz");
    const tlsOut = await overTls(server.port, clientCreds, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(tlsOut.match(/^HTTP\/1\.1 200 /gm)?.length).toBe(2);
    expect(tlsOut.indexOf(`${CALLER} GET /b`)).toBeGreaterThan(tlsOut.indexOf(`${CALLER} GET /a`));
  });

  test("large bodies both ways through the relay arrive whole, also when the server closes right after", async () => {
    const big = "x".repeat(3 * 1024 * 1024);
    const answer = async (req: Request) => (req.body ? new Response(`got ${(await req.text()).length}`) : new Response(big, { headers: { "content-length": String(big.length) } }));
    const server = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => serverCreds, trustDomain: TD, mode: "permissive",
      limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000, idleTimeoutMs: 5000 },
      handler: answer, plaintextHandler: answer,
    });
    cleanups.push(() => server.close({ drainMs: 0 }));
    expect((await (await send(server.port, "/big")).text()).length).toBe(big.length);
    const up = await mesh().send({ id: "i", address: "127.0.0.1", port: server.port, tags: [], meta: {} }, API, new Request("http://api/up", { method: "POST", body: big }), { signal: AbortSignal.timeout(5000), connectTimeoutMs: 2000 });
    expect(await up.text()).toBe(`got ${big.length}`);
    const closing = await overTls(server.port, clientCreds, "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    expect(closing.endsWith(big)).toBe(true);
    expect((await (await fetch(`http://127.0.0.1:${server.port}/big`)).text()).length).toBe(big.length);
  });

  test("limits apply to plaintext: oversize head 431, a silent connection closed after headerTimeoutMs", async () => {
    const { server, seen } = await serve("permissive", { limits: { headerTimeoutMs: 200 } });
    const big = await plain(server.port, [`GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"x".repeat(5000)}\r\n\r\n`]);
    expect(big.out.startsWith("HTTP/1.1 431 ")).toBe(true);
    const started = performance.now();
    const silent = await plain(server.port, [], 3000);
    expect(silent.closed).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
    expect(seen).toEqual([]);
  });
});

describe("strict stays strict", () => {
  test("a strict server never answers plaintext HTTP", async () => {
    const { server, seen } = await serve("strict");
    const { out } = await plain(server.port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"]);
    expect(out).not.toContain("HTTP/1.1 200");
    expect(seen).toEqual([]);
    expect(await overTls(server.port, clientCreds)).toContain(`${CALLER} GET /tls `);
  });

  test("permissive without a plaintextHandler is refused at start", async () => {
    await expect(startMtlsServer({ hostname: "127.0.0.1", port: 0, credentials: () => serverCreds, trustDomain: TD, mode: "permissive", limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000, idleTimeoutMs: 5000 }, handler: async () => new Response("x") })).rejects.toThrow(/plaintextHandler/);
  });
});

describe("live mode switch on the same port", () => {
  test("strict → permissive → strict: plaintext follows the mode, mTLS works throughout", async () => {
    const { server } = await serve("strict");
    const port = server.port;
    expect((await plain(port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"])).out).not.toContain("HTTP/1.1 200");
    server.setMode("permissive");
    expect(server.mode()).toBe("permissive");
    expect(server.port).toBe(port);
    expect(await (await fetch(`http://127.0.0.1:${port}/now`)).text()).toBe("(none) GET /now ");
    expect(await (await send(port, "/m1")).text()).toBe(`${CALLER} GET /m1 `);
    server.setMode("strict");
    expect((await plain(port, ["GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"])).out).not.toContain("HTTP/1.1 200");
    expect(await (await send(port, "/m2")).text()).toBe(`${CALLER} GET /m2 `);
    expect(await overTls(port, clientCreds)).toContain(`${CALLER} GET /tls `);
  });

  test("leaving permissive closes open plaintext connections: idle ones at once, a busy one after its response", async () => {
    let release = (): void => {};
    const slow = new Promise<void>((r) => (release = r));
    const { server } = await serve("permissive", { slow });
    const idle = plain(server.port, ["GET /first HTTP/1.1\r\nHost: a\r\n\r\n"], 3000);
    const busy = plain(server.port, ["GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"], 3000);
    await Bun.sleep(200);
    server.setMode("strict");
    release();
    const [i, b] = await Promise.all([idle, busy]);
    expect(i.out.startsWith("HTTP/1.1 200 ")).toBe(true);
    expect(i.closed).toBe(true);
    expect(b.out).toContain("(none) GET /slow");
    expect(b.out.toLowerCase()).toContain("connection: close");
    expect(b.closed).toBe(true);
  });
});

describe("credential rotation", () => {
  test("in permissive mode, new TLS connections get the rotated server certificate through the front", async () => {
    let current: TlsMaterial = serverCreds;
    const server = await startMtlsServer({
      hostname: "127.0.0.1", port: 0, credentials: () => current, trustDomain: TD, mode: "permissive",
      limits: { maxHeaderBytes: 4096, headerTimeoutMs: 2000, idleTimeoutMs: 5000 },
      handler: async (_req, peer) => new Response(peer.spiffeId), plaintextHandler: async () => new Response("plain"),
    });
    cleanups.push(() => server.close({ drainMs: 0 }));
    const serial = async (): Promise<string> => {
      const sock = tls.connect({ host: "127.0.0.1", port: server.port, key: clientCreds.keyPem, cert: clientCreds.certChainPem, ca: ca.trustBundlePem(), checkServerIdentity: () => undefined });
      cleanups.push(() => sock.destroy());
      await new Promise<void>((resolve, reject) => (sock.once("secureConnect", () => resolve()), sock.once("error", reject)));
      return sock.getPeerCertificate().serialNumber;
    };
    const before = await serial();
    current = await issueWorkloadCredentials(ca, API);
    await serial(); // the first connection after the change triggers the swap
    expect(await serial()).not.toBe(before);
    expect(await (await fetch(`http://127.0.0.1:${server.port}/`)).text()).toBe("plain");
  });
});

describe("close", () => {
  test("an in-flight plaintext request finishes, then the port takes nothing", async () => {
    let release = (): void => {};
    const slow = new Promise<void>((r) => (release = r));
    const { server } = await serve("permissive", { slow });
    const inflight = plain(server.port, ["GET /slow HTTP/1.1\r\nHost: a\r\n\r\n"], 3000);
    await Bun.sleep(100);
    expect(server.inFlight()).toBe(1);
    const closing = server.close({ drainMs: 2000 });
    await Bun.sleep(50);
    release();
    await closing;
    expect((await inflight).out).toContain("(none) GET /slow");
    await expect(fetch(`http://127.0.0.1:${server.port}/after`)).rejects.toThrow();
  });
});
