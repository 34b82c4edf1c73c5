// The L4 pair in one process: outbound TCP listener → mTLS → inbound listener in L4 mode → a node:net echo app.
// Bytes both ways with backpressure, half-close, the server's identity insisted on, callers refused, counters.
import { afterEach, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { createCertificateAuthority } from "../../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../../shared/pki/workload.ts";
import { createCluster } from "../../shared/upstream/cluster.ts";
import { issueTestLeaf } from "../../test/support/pki-testing.ts";
import { startMtlsServer } from "./inbound-server.ts";
import { startTcpUpstream, type TcpUpstreamOptions } from "./tcp-outbound.ts";
import type { L4Target, MtlsServer, TcpCounters, TcpDirection, TlsMaterial } from "../ports.ts";

const TD = "l4.test";
const id = (svc: string): string => `spiffe://${TD}/ns/default/svc/${svc}`;
const ca = await createCertificateAuthority({ trustDomain: TD });
const [dbCreds, apiCreds, otherCreds] = await Promise.all([issueWorkloadCredentials(ca, id("db")), issueWorkloadCredentials(ca, id("api")), issueWorkloadCredentials(ca, id("other"))]);
const foreign = await issueWorkloadCredentials(await createCertificateAuthority({ trustDomain: TD }), id("db"));

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tally() {
  const all = new Map<string, TcpCounters>();
  const of = (direction: TcpDirection, service: string): TcpCounters => {
    const key = `${direction}/${service}`;
    let c = all.get(key);
    if (c === undefined) all.set(key, (c = { connections: { ok: 0, denied: 0, "connect-failure": 0, "identity-mismatch": 0 }, active: 0, received: 0, sent: 0 }));
    return c;
  };
  return { of, get: (k: string) => all.get(k) };
}

/** An echo app that counts the connections it was given. */
async function echoApp(): Promise<{ port: number; connections: () => number }> {
  let n = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    n++;
    s.pipe(s); // node's pipe: backpressure, and end() once the reader ended
    s.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise((r) => server.close(() => r(undefined))));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n };
}

async function inbound(creds: TlsMaterial, route: (peer: string) => L4Target | undefined, t = tally()): Promise<MtlsServer> {
  const server = await startMtlsServer({
    hostname: "127.0.0.1",
    port: 0,
    credentials: () => creds,
    trustDomain: TD,
    limits: { maxHeaderBytes: 16384, headerTimeoutMs: 2000, idleTimeoutMs: 5000 },
    handler: async () => new Response("http"),
    l4: { route: (peer) => route(peer.spiffeId), tally: t.of },
  });
  cleanups.push(() => server.close({ drainMs: 0 }));
  return server;
}

function outbound(ports: number[], o: Partial<TcpUpstreamOptions> = {}, t = tally()) {
  const cluster = createCluster({ name: "db", service: "db", spiffeId: id("db"), loadBalancer: "round_robin" });
  cluster.setServiceEndpoints(ports.map((port, i) => ({ id: `db-${i}`, address: "127.0.0.1", port, tags: [], meta: {} })));
  const failures: string[] = [];
  const up = startTcpUpstream({
    service: "db", hostname: "127.0.0.1", port: 0, credentials: () => apiCreds, cluster: () => cluster, connectTimeoutMs: 1000,
    counters: t.of("outbound", "db"), onFailure: (r, d) => failures.push(`${r}: ${d}`), ...o,
  });
  cleanups.push(() => up.stop(0));
  return { up, failures };
}

/** Sends `payload`, half-closes, and collects everything until the other side ends. */
function exchange(port: number, payload: Uint8Array): Promise<{ got: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    const s = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true }, () => {
      s.write(payload);
      s.end();
    });
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => (ended = true));
    s.on("error", () => {});
    s.on("close", () => resolve({ got: Buffer.concat(chunks), ended }));
  });
}

const allowAll = (app: number) => (): L4Target => ({ service: "db", allowed: true, app: { address: "127.0.0.1", port: app } });
const bytes = (n: number): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 11)) & 0xff;
  return b;
};

describe("TCP services at L4", () => {
  test("a large payload both ways, the half-close carried, counters on both sides", async () => {
    const app = await echoApp();
    const tIn = tally();
    const tOut = tally();
    const server = await inbound(dbCreds, allowAll(app.port), tIn);
    const { up } = outbound([server.port], {}, tOut);
    const payload = bytes(8 * 1024 * 1024);
    const { got, ended } = await exchange(up.port, payload);
    expect(ended).toBe(true);
    expect(got.length).toBe(payload.length);
    expect(Buffer.compare(got, Buffer.from(payload))).toBe(0);
    await Bun.sleep(50);
    for (const c of [tIn.get("inbound/db")!, tOut.get("outbound/db")!]) {
      expect(c.connections.ok).toBe(1);
      expect(c.received).toBe(payload.length);
      expect(c.sent).toBe(payload.length);
      expect(c.active).toBe(0);
    }
    expect(up.connections()).toBe(0);
  });

  test("many concurrent connections, each gets its own bytes back", async () => {
    const app = await echoApp();
    const server = await inbound(dbCreds, allowAll(app.port));
    const { up } = outbound([server.port]);
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(up.port, new TextEncoder().encode(`conn-${i}-`.repeat(100 + i)))));
    results.forEach((r, i) => expect(r.got.toString()).toBe(`conn-${i}-`.repeat(100 + i)));
    expect(app.connections()).toBe(50);
  });

  test("an upstream with another service's identity is refused before any byte reaches it", async () => {
    const app = await echoApp();
    const t = tally();
    const server = await inbound(otherCreds, allowAll(app.port));
    const { up, failures } = outbound([server.port], {}, t);
    const { got } = await exchange(up.port, new TextEncoder().encode("secret"));
    expect(got.length).toBe(0);
    expect(t.get("outbound/db")!.connections["identity-mismatch"]).toBe(1);
    expect(failures).toEqual([expect.stringContaining(`upstream identity ${id("other")} is not the expected ${id("db")}`)]);
    await Bun.sleep(50);
    expect(app.connections()).toBe(0);
  });

  test("an upstream whose chain is not in our trust bundle is refused, even with the right id", async () => {
    const app = await echoApp();
    const t = tally();
    const server = await inbound({ ...foreign, trustBundlePem: dbCreds.trustBundlePem }, allowAll(app.port));
    const { up, failures } = outbound([server.port], {}, t);
    const { got } = await exchange(up.port, new TextEncoder().encode("secret"));
    expect(got.length).toBe(0);
    expect(t.get("outbound/db")!.connections["identity-mismatch"]).toBe(1);
    expect(failures[0]).toContain("upstream certificate refused");
    expect(app.connections()).toBe(0);
  });

  test("an upstream with an expired leaf, or one breaking the X509-SVID rules (two URI SANs), is refused", async () => {
    const app = await echoApp();
    const now = Date.now();
    const expired = await issueTestLeaf(ca, { uris: [id("db")], notBefore: new Date(now - 7_200_000), notAfter: new Date(now - 3_600_000) });
    const twoIds = await issueTestLeaf(ca, { uris: [id("db"), id("admin")] });
    for (const [leaf, why] of [[expired, "upstream certificate refused: certificate has expired"], [twoIds, "upstream certificate refused: an X509-SVID has exactly one URI SAN"]] as const) {
      const t = tally();
      const server = await inbound({ ...leaf, spiffeId: id("db"), trustBundlePem: dbCreds.trustBundlePem }, allowAll(app.port));
      const { up, failures } = outbound([server.port], {}, t);
      expect((await exchange(up.port, new TextEncoder().encode("secret"))).got.length).toBe(0);
      expect(t.get("outbound/db")!.connections["identity-mismatch"]).toBe(1);
      expect(failures[0]).toContain(why);
    }
    expect(app.connections()).toBe(0);
  });

  test("a denied caller is closed after the handshake; the app never sees a connection", async () => {
    const app = await echoApp();
    const tIn = tally();
    const server = await inbound(dbCreds, (peer) => (peer === id("api") ? { service: "db", allowed: false } : allowAll(app.port)()), tIn);
    const { up } = outbound([server.port]);
    const { got } = await exchange(up.port, new TextEncoder().encode("let me in"));
    expect(got.length).toBe(0);
    await Bun.sleep(50);
    expect(tIn.get("inbound/db")!.connections.denied).toBe(1);
    expect(app.connections()).toBe(0);
  });

  test("a refused connect fails over to another endpoint once; with none left the app's connection is closed", async () => {
    const app = await echoApp();
    const server = await inbound(dbCreds, allowAll(app.port));
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(0, "127.0.0.1", r));
    const deadPort = (dead.address() as net.AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const t = tally();
    const { up } = outbound([deadPort, server.port], {}, t);
    for (let i = 0; i < 4; i++) expect((await exchange(up.port, new TextEncoder().encode("hi"))).got.toString()).toBe("hi");
    expect(t.get("outbound/db")!.connections.ok).toBe(4);

    const t2 = tally();
    const { up: none, failures } = outbound([deadPort, deadPort + 0], {}, t2);
    expect((await exchange(none.port, new TextEncoder().encode("hi"))).got.length).toBe(0);
    expect(t2.get("outbound/db")!.connections["connect-failure"]).toBe(1);
    expect(failures).toHaveLength(1);
  });

  test("an inbound that routes nothing to L4 still speaks HTTP/1.1", async () => {
    const server = await inbound(dbCreds, () => undefined);
    const tls = await import("node:tls");
    const sock = tls.connect({ host: "127.0.0.1", port: server.port, key: apiCreds.keyPem, cert: apiCreds.certChainPem, ca: apiCreds.trustBundlePem, checkServerIdentity: () => undefined });
    cleanups.push(() => sock.destroy());
    let out = "";
    sock.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise<void>((r) => sock.once("secureConnect", () => r()));
    sock.write("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    await new Promise<void>((r) => sock.once("close", () => r()));
    expect(out).toStartWith("HTTP/1.1 200");
    expect(out).toContain("\r\nhttp\r\n");
  });

  test("on the half-open listener, an HTTP caller's FIN still closes its connection", async () => {
    const server = await inbound(dbCreds, () => undefined);
    const tls = await import("node:tls");
    const sock = tls.connect({ host: "127.0.0.1", port: server.port, key: apiCreds.keyPem, cert: apiCreds.certChainPem, ca: apiCreds.trustBundlePem, checkServerIdentity: () => undefined });
    cleanups.push(() => sock.destroy());
    sock.on("error", () => {});
    await new Promise<void>((r) => sock.once("secureConnect", () => r()));
    const closed = new Promise<boolean>((r) => sock.once("close", () => r(true)));
    sock.end();
    expect(await Promise.race([closed, Bun.sleep(2000).then(() => false)])).toBe(true);
  });
});
