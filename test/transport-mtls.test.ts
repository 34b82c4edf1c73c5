// Integration tests of the mesh mTLS transport with real sockets and real certificates from shared/pki:
// identity from the peer certificate, strict refusals, server-id pinning, reuse, streaming, failures and draining.

import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import * as tls from "node:tls";
import { createCertificateAuthority } from "../shared/pki/ca.ts";
import { issueTestLeaf } from "./support/pki-testing.ts";
import { issueWorkloadCredentials } from "../shared/pki/workload.ts";
import { UpstreamError, type Endpoint } from "../shared/types.ts";
import { startMtlsServer } from "../runtime/bun/inbound-server.ts";
import { createMeshClient } from "../runtime/bun/mesh-client.ts";
import type { MeshClient, MtlsServer, PeerIdentity, TlsMaterial } from "../runtime/ports.ts";

const TD = "mesh.test";
const ECHO = `spiffe://${TD}/ns/default/svc/echo`;
const WEB = `spiffe://${TD}/ns/default/svc/web`;
const ca = await createCertificateAuthority({ trustDomain: TD });
const otherCa = await createCertificateAuthority({ trustDomain: TD });
const serverCreds: TlsMaterial = await issueWorkloadCredentials(ca, ECHO);
const clientCreds: TlsMaterial = await issueWorkloadCredentials(ca, WEB);
const LIMITS = { maxHeaderBytes: 16 * 1024, headerTimeoutMs: 5000, idleTimeoutMs: 30_000 };

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Seen = { calls: number; peers: string[]; lastRequest?: Request };

async function echoServer(handler?: (req: Request, peer: PeerIdentity) => Promise<Response>): Promise<{ server: MtlsServer; seen: Seen; endpoint: Endpoint }> {
  const seen: Seen = { calls: 0, peers: [] };
  const server = await startMtlsServer({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => serverCreds,
    trustDomain: TD,
    limits: LIMITS,
    handler: async (req, peer) => {
      seen.calls++;
      seen.peers.push(peer.spiffeId);
      seen.lastRequest = req;
      if (handler) return handler(req, peer);
      const headers: Record<string, string> = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      return Response.json({ peer: peer.spiffeId, method: req.method, url: req.url, headers });
    },
  });
  cleanups.push(() => server.close({ drainMs: 0 }));
  return { server, seen, endpoint: { id: "e1", address: "127.0.0.1", port: server.port, tags: [], meta: {} } };
}

function client(creds: TlsMaterial = clientCreds): MeshClient {
  const c = createMeshClient({ credentials: () => creds });
  cleanups.push(() => c.close());
  return c;
}

const opts = (): { signal: AbortSignal; connectTimeoutMs: number } => ({ signal: AbortSignal.timeout(10_000), connectTimeoutMs: 2000 });

async function upstreamError(p: Promise<unknown>): Promise<UpstreamError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UpstreamError) return e;
    throw new Error(`expected UpstreamError, got ${String(e)}`);
  }
  throw new Error("expected the send to fail");
}

describe("identity", () => {
  test("the caller's SPIFFE id from its verified certificate reaches the handler", async () => {
    const { seen, endpoint } = await echoServer();
    const res = await client().send(endpoint, ECHO, new Request("http://echo.default/a/b?q=1", { headers: { "x-a": "1" } }), opts());
    expect(res.status).toBe(200);
    const body = (await res.json()) as { peer: string; url: string; headers: Record<string, string> };
    expect(body.peer).toBe(WEB);
    expect(body.url).toBe("http://echo.default/a/b?q=1");
    expect(body.headers["x-a"]).toBe("1");
    expect(seen.peers).toEqual([WEB]);
  });

  test("the client refuses a server whose leaf breaks the X509-SVID rules (CA:true), before any request byte", async () => {
    const bad = await forged({ extensions: swap(x509.BasicConstraintsExtension, new x509.BasicConstraintsExtension(true, undefined, true)) });
    const server = await startMtlsServer({ hostname: "127.0.0.1", port: 0, credentials: () => ({ ...bad, spiffeId: ECHO }), trustDomain: TD, limits: LIMITS, handler: async () => new Response("should not be reached") });
    cleanups.push(() => server.close({ drainMs: 0 }));
    const endpoint = { id: "bad", address: "127.0.0.1", port: server.port, tags: [], meta: {} };
    const err = await upstreamError(client().send(endpoint, WEB, new Request("http://web/"), opts()));
    expect(err.kind).toBe("identity-mismatch");
    expect(err.message).toContain("CA:true");
  });

  test("the client refuses a server whose id is not the expected one; the handler never runs", async () => {
    const { seen, endpoint } = await echoServer();
    const err = await upstreamError(client().send(endpoint, `spiffe://${TD}/ns/default/svc/other`, new Request("http://other/"), opts()));
    expect(err.kind).toBe("identity-mismatch");
    expect(seen.calls).toBe(0);
  });
});

const swap = (kind: unknown, ext: x509.Extension) => (d: x509.Extension[]) => [...d.filter((e) => !(e instanceof (kind as new (...a: never[]) => x509.Extension))), ext];
async function forged(unsafe: NonNullable<Parameters<typeof issueTestLeaf>[1]["unsafe"]>): Promise<TlsMaterial> {
  return { ...(await issueTestLeaf(ca, { uris: [WEB], unsafe })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() };
}

describe("strict inbound refusals (handler called 0 times)", () => {
  const past = { notBefore: new Date(Date.now() - 7_200_000), notAfter: new Date(Date.now() - 3_600_000) };
  const cases: Array<[string, () => Promise<TlsMaterial>]> = [
    ["a certificate from another CA", async () => ({ ...(await issueWorkloadCredentials(otherCa, WEB)), trustBundlePem: ca.trustBundlePem() })],
    ["an expired certificate", async () => ({ ...(await issueTestLeaf(ca, { uris: [WEB], ...past })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    ["a URI SAN in another trust domain", async () => ({ ...(await issueTestLeaf(ca, { uris: ["spiffe://evil.test/ns/default/svc/web"] })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    ["a URI SAN that is not a spiffe id", async () => ({ ...(await issueTestLeaf(ca, { uris: ["https://web.example/"] })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    ["two URI SANs", async () => ({ ...(await issueTestLeaf(ca, { uris: [WEB, `spiffe://${TD}/ns/default/svc/admin`] })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    ["no URI SAN at all", async () => ({ ...(await issueTestLeaf(ca, { uris: [] })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    // Signed by our own CA, chain-valid, but breaking the X509-SVID rules (all got 200 before the SVID checks):
    ["a leaf with CA:true", async () => forged({ extensions: swap(x509.BasicConstraintsExtension, new x509.BasicConstraintsExtension(true, undefined, true)) })],
    ["a leaf with keyCertSign", async () => forged({ extensions: swap(x509.KeyUsagesExtension, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true)) })],
    ["a leaf without digitalSignature", async () => forged({ extensions: swap(x509.KeyUsagesExtension, new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyAgreement, true)) })],
    ["a client leaf whose EKU is serverAuth only", async () => forged({ extensions: swap(x509.ExtendedKeyUsageExtension, new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])) })],
    ["an RSA-1024 leaf", async () => ({ ...(await issueTestLeaf(ca, { uris: [WEB], key: "RSA-1024" })), spiffeId: WEB, trustBundlePem: ca.trustBundlePem() })],
    ["a SHA-1-signed leaf", async () => forged({ signingAlgorithm: { name: "ECDSA", hash: "SHA-1" } })],
  ];
  for (const [name, make] of cases) {
    test(`refuses ${name}`, async () => {
      const { seen, endpoint, server } = await echoServer();
      const err = await upstreamError(client(await make()).send(endpoint, ECHO, new Request("http://echo/"), opts()));
      expect(["connect-failure", "reset"]).toContain(err.kind);
      expect(seen.calls).toBe(0);
      expect(server.connectionsAccepted()).toBe(0);
    });
  }

  test("refuses a client that presents no certificate", async () => {
    const { seen, endpoint } = await echoServer();
    const noCert = new Bun.FetchSession({ tls: { ca: ca.trustBundlePem(), checkServerIdentity: () => undefined } });
    cleanups.push(() => noCert.close());
    await expect(noCert.fetch(`https://127.0.0.1:${endpoint.port}/`)).rejects.toThrow();
    expect(seen.calls).toBe(0);
  });

  test("refuses to start when NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
    const before = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
    try {
      await expect(echoServer()).rejects.toThrow(/NODE_TLS_REJECT_UNAUTHORIZED/);
    } finally {
      if (before === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = before;
    }
  });
});

describe("connections", () => {
  test("many sequential requests share one TLS connection", async () => {
    const { server, endpoint } = await echoServer();
    const c = client();
    for (let i = 0; i < 25; i++) {
      const res = await c.send(endpoint, ECHO, new Request(`http://echo/${i}`), opts());
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    expect(server.connectionsAccepted()).toBe(1);
  });

  test("a credentials provider that returns a fresh, equal object per call causes no listener churn", async () => {
    const server = await startMtlsServer({ hostname: "127.0.0.1", port: 0, credentials: () => ({ ...serverCreds }), trustDomain: TD, limits: LIMITS, handler: async () => new Response("ok") });
    cleanups.push(() => server.close({ drainMs: 0 }));
    const endpoint: Endpoint = { id: "f", address: "127.0.0.1", port: server.port, tags: [], meta: {} };
    const c = createMeshClient({ credentials: () => ({ ...clientCreds }) });
    cleanups.push(() => c.close());
    const results = await Promise.allSettled(Array.from({ length: 32 }, () => c.send(endpoint, ECHO, new Request("http://echo/"), opts()).then((r) => r.text())));
    expect(results.filter((r) => r.status === "fulfilled" && r.value === "ok").length).toBe(32);
  });

  test("a dead connection is replaced", async () => {
    const first = await echoServer();
    const c = client();
    expect((await c.send(first.endpoint, ECHO, new Request("http://echo/"), opts())).status).toBe(200);
    await first.server.close({ drainMs: 0 });
    const again = await upstreamError(c.send(first.endpoint, ECHO, new Request("http://echo/"), opts()));
    expect(["connect-failure", "reset"]).toContain(again.kind);
    // A new listener on the same port: the client makes a fresh connection.
    const second = await startMtlsServer({ hostname: "127.0.0.1", port: first.endpoint.port, credentials: () => serverCreds, trustDomain: TD, limits: LIMITS, handler: async () => new Response("second") });
    cleanups.push(() => second.close({ drainMs: 0 }));
    const res = await c.send(first.endpoint, ECHO, new Request("http://echo/"), opts());
    expect(await res.text()).toBe("second");
  });

  test("connect-failure on a closed port", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const err = await upstreamError(client().send({ id: "x", address: "127.0.0.1", port, tags: [], meta: {} }, ECHO, new Request("http://echo/"), opts()));
    expect(err.kind).toBe("connect-failure");
  });

  test("connect timeout: a listener that never completes the handshake is a connect-failure", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    cleanups.push(() => silent.stop(true));
    const started = performance.now();
    const err = await upstreamError(client().send({ id: "s", address: "127.0.0.1", port: silent.port, tags: [], meta: {} }, ECHO, new Request("http://echo/"), { signal: AbortSignal.timeout(10_000), connectTimeoutMs: 300 }));
    expect(err.kind).toBe("connect-failure");
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe("bodies and signals", () => {
  test("5 MB request and response bodies stream through intact", async () => {
    const { endpoint } = await echoServer(async (req) => new Response(req.body, { headers: { "content-type": "application/octet-stream" } }));
    const size = 5 * 1024 * 1024;
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (offset >= size) return ctl.close();
        const n = Math.min(64 * 1024, size - offset);
        ctl.enqueue(payload.slice(offset, offset + n));
        offset += n;
      },
    });
    const res = await client().send(endpoint, ECHO, new Request("http://echo/upload", { method: "POST", body, duplex: "half" } as RequestInit), opts());
    expect(res.status).toBe(200);
    const got = new Uint8Array(await res.arrayBuffer());
    expect(got.length).toBe(size);
    expect(Bun.hash(got)).toBe(Bun.hash(payload));
  });

  test("a response body streams: the first chunk arrives before the handler finishes", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { endpoint } = await echoServer(async () => {
      const enc = new TextEncoder();
      return new Response(
        new ReadableStream({
          async start(ctl) {
            ctl.enqueue(enc.encode("first;"));
            await gate;
            ctl.enqueue(enc.encode("second"));
            ctl.close();
          },
        }),
      );
    });
    const res = await client().send(endpoint, ECHO, new Request("http://echo/stream"), opts());
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("first;");
    release();
    let rest = "";
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += new TextDecoder().decode(r.value);
    }
    expect(rest).toBe("second");
  });

  test("hop-by-hop headers do not cross; Host and end-to-end headers do", async () => {
    const { seen, endpoint } = await echoServer();
    const req = new Request("http://echo.default:8080/", { headers: { connection: "x-hop", "x-hop": "1", "keep-alive": "5", "proxy-authorization": "p", "x-end": "2" } });
    const res = await client().send(endpoint, ECHO, req, opts());
    const body = (await res.json()) as { headers: Record<string, string> };
    expect(body.headers["x-end"]).toBe("2");
    expect(body.headers.host).toBe("echo.default:8080");
    expect(body.headers["x-hop"]).toBeUndefined();
    expect(body.headers["proxy-authorization"]).toBeUndefined();
    expect(body.headers["keep-alive"]).toBeUndefined();
    expect(seen.calls).toBe(1);
  });

  test("aborting the signal rejects promptly and cancels the request upstream", async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((r) => (upstreamAborted = r));
    const { endpoint } = await echoServer(async (req) => {
      req.signal.addEventListener("abort", () => upstreamAborted());
      await new Promise((r) => setTimeout(r, 5000));
      return new Response("late");
    });
    const ac = new AbortController();
    const p = client().send(endpoint, ECHO, new Request("http://echo/slow"), { signal: ac.signal, connectTimeoutMs: 2000 });
    setTimeout(() => ac.abort(new Error("caller gave up")), 200);
    const started = performance.now();
    await expect(p).rejects.toThrow("caller gave up");
    expect(performance.now() - started).toBeLessThan(1000);
    await aborted;
  });
});

describe("draining", () => {
  test("close({drainMs}) lets an in-flight request finish and refuses new connections", async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    const { server, endpoint } = await echoServer(async () => {
      entered();
      await new Promise((r) => setTimeout(r, 400));
      return new Response("finished");
    });
    const slow = client().send(endpoint, ECHO, new Request("http://echo/slow"), opts());
    await inHandler;
    expect(server.inFlight()).toBe(1);
    const closing = server.close({ drainMs: 3000 });
    const refused = await upstreamError(client().send(endpoint, ECHO, new Request("http://echo/new"), opts()));
    expect(["connect-failure", "reset"]).toContain(refused.kind);
    const res = await slow;
    expect(await res.text()).toBe("finished");
    await closing;
    expect(server.inFlight()).toBe(0);
  });

  test("close({drainMs}) force-closes a request that outlives the drain", async () => {
    const { server, endpoint } = await echoServer(async () => {
      await new Promise((r) => setTimeout(r, 5000));
      return new Response("too late");
    });
    const slow = client().send(endpoint, ECHO, new Request("http://echo/slow"), opts());
    await Bun.sleep(100);
    const started = performance.now();
    await server.close({ drainMs: 200 });
    expect(performance.now() - started).toBeLessThan(1500);
    const err = await upstreamError(slow);
    expect(err.kind).toBe("reset");
  });
});

afterAll(() => {
  for (const c of cleanups.splice(0)) c();
});

describe("credential rotation", () => {
  test("new connections get the rotated server certificate; the old connection keeps working", async () => {
    let current: TlsMaterial = serverCreds;
    const rotated = await issueWorkloadCredentials(ca, ECHO);
    const server = await startMtlsServer({ hostname: "127.0.0.1", port: 0, credentials: () => current, trustDomain: TD, limits: LIMITS, handler: async (_req, peer) => new Response(peer.spiffeId) });
    cleanups.push(() => server.close({ drainMs: 0 }));
    const endpoint: Endpoint = { id: "r", address: "127.0.0.1", port: server.port, tags: [], meta: {} };
    const serialSeen = async (): Promise<string> => {
      const sock = tls.connect({ host: "127.0.0.1", port: server.port, key: clientCreds.keyPem, cert: clientCreds.certChainPem, ca: ca.trustBundlePem(), checkServerIdentity: () => undefined });
      await new Promise((r, j) => (sock.once("secureConnect", r), sock.once("error", j)));
      const serial = sock.getPeerX509Certificate()!.serialNumber;
      sock.destroy();
      return serial;
    };
    const c = client();
    expect(await (await c.send(endpoint, ECHO, new Request("http://echo/"), opts())).text()).toBe(WEB);
    const before = await serialSeen();
    current = rotated;
    const after = await serialSeen(); // the very next connection: credentials are read at accept time
    expect(after).toBe(await serialSeen());
    expect(after).not.toBe(before);
    expect(after).toBe(new X509Certificate(rotated.certChainPem).serialNumber);
    // The pooled connection made before the rotation still serves requests.
    expect(await (await c.send(endpoint, ECHO, new Request("http://echo/"), opts())).text()).toBe(WEB);
  });

  test("rotations while new connections keep arriving reset none of them (no listener swap, no lost accept queue)", async () => {
    let current: TlsMaterial = serverCreds;
    const server = await startMtlsServer({ hostname: "127.0.0.1", port: 0, credentials: () => current, trustDomain: TD, limits: LIMITS, handler: async () => new Response("ok") });
    cleanups.push(() => server.close({ drainMs: 0 }));
    const endpoint: Endpoint = { id: "r", address: "127.0.0.1", port: server.port, tags: [], meta: {} };
    let running = true;
    let sent = 0;
    const failures: string[] = [];
    // A fresh client every few requests: new connections all through the rotations.
    const loop = async () => {
      let c = client();
      for (let i = 0; running; i++) {
        if (i % 3 === 0) {
          c.close();
          c = client();
        }
        sent++;
        try {
          await (await c.send(endpoint, ECHO, new Request("http://echo/"), opts())).text();
        } catch (err) {
          failures.push(String(err));
        }
      }
      c.close();
    };
    const loops = [loop(), loop(), loop(), loop()];
    for (let k = 0; k < 25; k++) {
      await Bun.sleep(60);
      current = await issueWorkloadCredentials(ca, ECHO);
    }
    running = false;
    await Promise.all(loops);
    expect(failures.slice(0, 3)).toEqual([]);
    expect(sent).toBeGreaterThan(300);
  }, 20_000);
});
