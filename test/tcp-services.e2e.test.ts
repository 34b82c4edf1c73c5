// TCP services at L4 with real processes: a raw TCP echo app behind db's sidecar (protocol: tcp), api's sidecar with
// --tcp-upstream db=PORT, and real TCP clients. Large payloads both ways, half-close, many connections, a caller denied
// by db's policy, an upstream with the wrong identity refused, and both sidecars' /metrics counting it all.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as net from "node:net";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";

const mesh = new TestMesh();
const httpApp = startTestApp("api"); // api's own app: never reached by these tests
let echo: { port: number; connections: () => number; close: () => Promise<void> };
const port = { dbAdmin: 0, apiAdmin: 0, apiTcp: 0, intruderTcp: 0, confusedTcp: 0, confusedAdmin: 0, intruderAdmin: 0 };

/** A raw TCP echo app (node:net: backpressure by pipe, its own end once the caller's FIN was read). */
async function startEcho(): Promise<typeof echo> {
  let n = 0;
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    n++;
    s.on("error", () => {});
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as net.AddressInfo).port, connections: () => n, close: () => new Promise((r) => server.close(() => r())) };
}

beforeAll(async () => {
  echo = await startEcho();
  await mesh.startCa();
  const [dbInbound, apiInbound, intruderInbound, confusedInbound] = [await freePort(), await freePort(), await freePort(), await freePort()];
  port.apiTcp = await freePort();
  port.intruderTcp = await freePort();
  port.confusedTcp = await freePort();
  const services = (dbPort: number) => ({
    db: { protocol: "tcp", instances: [{ id: "db-1", address: "127.0.0.1", port: dbPort }] },
    api: { instances: [{ id: "api-1", address: "127.0.0.1", port: apiInbound }] },
    intruder: { instances: [{ id: "intruder-1", address: "127.0.0.1", port: intruderInbound }] },
    confused: { instances: [{ id: "confused-1", address: "127.0.0.1", port: confusedInbound }] },
  });
  const authorization = { db: { default: "deny", rules: [{ name: "api-in", action: "allow", from: ["api"] }] } };
  const config = mesh.writeConfig({ trustDomain: "mesh.local", services: services(dbInbound), authorization });
  // The confused caller's config says db lives at api's inbound: the sidecar there holds api's identity, not db's.
  const wrong = mesh.writeConfig({ trustDomain: "mesh.local", services: services(apiInbound), authorization }, "wrong.yaml");
  const db = await mesh.startSidecar({ config, service: "db", appPort: echo.port, inboundPort: dbInbound });
  const api = await mesh.startSidecar({ config, service: "api", appPort: httpApp.port, inboundPort: apiInbound, extra: ["--tcp-upstream", `db=${port.apiTcp}`] });
  const intruder = await mesh.startSidecar({ config, service: "intruder", appPort: httpApp.port, inboundPort: intruderInbound, extra: ["--tcp-upstream", `db=${port.intruderTcp}`] });
  const confused = await mesh.startSidecar({ config: wrong, service: "confused", appPort: httpApp.port, inboundPort: confusedInbound, extra: ["--tcp-upstream", `db=${port.confusedTcp}`] });
  port.dbAdmin = db.adminPort;
  port.apiAdmin = api.adminPort;
  port.intruderAdmin = intruder.adminPort;
  port.confusedAdmin = confused.adminPort;
  expect(api.ready.tcpUpstreams).toEqual({ db: port.apiTcp });
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  await echo?.close();
  httpApp.stop();
});

/** Sends `payload` (in pieces, as it comes), half-closes, and collects everything until the other side ends. */
function exchange(to: number, payload: Uint8Array): Promise<{ got: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let ended = false;
    const s = net.connect({ host: "127.0.0.1", port: to, allowHalfOpen: true }, () => {
      s.write(payload);
      s.end();
    });
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => (ended = true));
    s.on("error", () => {});
    s.on("close", () => resolve({ got: Buffer.concat(chunks), ended }));
  });
}

const pattern = (n: number): Uint8Array => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 13)) & 0xff;
  return b;
};

/** One series' value from an admin /metrics, by metric name and the labels it must have. */
async function metric(adminPort: number, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && want.every((w) => l.includes(w)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

test("bytes go both ways through api's TCP listener to db's app and back", async () => {
  const { got, ended } = await exchange(port.apiTcp, new TextEncoder().encode("PING\r\n"));
  expect(got.toString()).toBe("PING\r\n");
  expect(ended).toBe(true);
});

test("8 MB echoed both ways at once (backpressure on every hop); the caller's FIN still gets the rest of the echo", async () => {
  const payload = pattern(8 * 1024 * 1024);
  const { got, ended } = await exchange(port.apiTcp, payload);
  expect(ended).toBe(true);
  expect(got.length).toBe(payload.length);
  expect(Buffer.compare(got, Buffer.from(payload))).toBe(0);
}, 30_000);

test("50 concurrent connections each get their own bytes back, one app connection each", async () => {
  const before = echo.connections();
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => exchange(port.apiTcp, new TextEncoder().encode(`c${i};`.repeat(2000 + i)))));
  results.forEach((r, i) => expect(r.got.toString()).toBe(`c${i};`.repeat(2000 + i)));
  expect(echo.connections() - before).toBe(50);
}, 30_000);

test("a caller db's policy denies is closed after the handshake; the app never sees a connection", async () => {
  const before = echo.connections();
  const { got } = await exchange(port.intruderTcp, new TextEncoder().encode("let me in"));
  expect(got.length).toBe(0);
  await until(async () => (await metric(port.dbAdmin, "mesh_tcp_connections_total", { direction: "inbound", result: "denied" })) === 1, 3000);
  expect(echo.connections()).toBe(before);
  // From the intruder's side the handshake with db succeeded: its connection counts as carried, then closed at once.
  expect(await metric(port.intruderAdmin, "mesh_tcp_connections_total", { direction: "outbound", service: "db", result: "ok" })).toBe(1);
});

test("an upstream holding another service's identity is refused by the caller before any byte is sent", async () => {
  const before = echo.connections();
  const { got } = await exchange(port.confusedTcp, new TextEncoder().encode("secret"));
  expect(got.length).toBe(0);
  await until(async () => (await metric(port.confusedAdmin, "mesh_tcp_connections_total", { direction: "outbound", service: "db", result: "identity-mismatch" })) === 1, 3000);
  expect(await metric(port.confusedAdmin, "mesh_tcp_connections_total", { direction: "outbound", service: "db", result: "ok" })).toBe(0);
  expect(echo.connections()).toBe(before);
  expect(httpApp.seen.length).toBe(0);
});

test("both sidecars' /metrics agree on connections and bytes; nothing stays open", async () => {
  await until(async () => (await metric(port.dbAdmin, "mesh_tcp_connections_active", { direction: "inbound", service: "db" })) === 0, 3000);
  await until(async () => (await metric(port.apiAdmin, "mesh_tcp_connections_active", { direction: "outbound", service: "db" })) === 0, 3000);
  const ok = { result: "ok", service: "db" };
  expect(await metric(port.dbAdmin, "mesh_tcp_connections_total", { direction: "inbound", ...ok })).toBe(52);
  expect(await metric(port.apiAdmin, "mesh_tcp_connections_total", { direction: "outbound", ...ok })).toBe(52);
  expect(await metric(port.apiAdmin, "mesh_tcp_connections_total", { direction: "outbound", service: "db", result: "connect-failure" })).toBe(0);
  for (const flow of ["received", "sent"]) {
    const inbound = await metric(port.dbAdmin, "mesh_tcp_bytes_total", { direction: "inbound", service: "db", flow });
    const outbound = await metric(port.apiAdmin, "mesh_tcp_bytes_total", { direction: "outbound", service: "db", flow });
    expect(inbound).toBeGreaterThan(8 * 1024 * 1024);
    expect(inbound).toBe(outbound!);
  }
});
