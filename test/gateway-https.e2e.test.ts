// The gateway's HTTPS listener: a configured certificate turns a listener into TLS, the request still crosses
// mTLS to the inbound sidecar, and the app sees X-Forwarded-Proto https. The edge cert comes from openssl.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, startTestApp } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";

const mesh = new TestMesh();
const app = startTestApp("secure");
let port = 0;
let certPem = "";

beforeAll(async () => {
  const key = join(mesh.dir, "edge.key");
  const cert = join(mesh.dir, "edge.crt");
  const gen = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  if (gen.exitCode !== 0) throw new Error(`openssl failed: ${gen.stderr.toString()}`);
  certPem = await Bun.file(cert).text();
  await mesh.startCa();
  port = await freePort();
  const inboundPort = await freePort();
  const config = mesh.writeConfig({
    services: { secure: { instances: [{ id: "s1", address: "127.0.0.1", port: inboundPort }] } },
    gateway: {
      name: "gateway",
      listeners: [{ name: "https", address: "127.0.0.1", port, tls: { cert, key } }],
      routes: [{ name: "all", match: { path: { prefix: "/" } }, action: { destinations: [{ service: "secure" }] } }],
    },
  });
  await mesh.startSidecar({ config, service: "secure", appPort: app.port, inboundPort });
  await mesh.startGateway(config);
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  app.stop();
});

test("HTTPS at the edge, mTLS inside: the app sees the gateway's identity and https as the forwarded proto", async () => {
  const res = await fetch(`https://127.0.0.1:${port}/hello`, { tls: { ca: certPem } } as RequestInit);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { caller: string };
  expect(body.caller).toBe("spiffe://mesh.local/ns/default/svc/gateway");
  const seen = app.seen.at(-1)!;
  expect(seen.headers["x-forwarded-proto"]).toBe("https");
});

test("plain HTTP to the HTTPS listener is refused, never routed", async () => {
  const before = app.seen.length;
  const outcome = await fetch(`http://127.0.0.1:${port}/hello`).then((r) => r.status, () => "refused");
  expect(outcome === "refused" || (typeof outcome === "number" && outcome >= 400)).toBe(true);
  expect(app.seen.length).toBe(before);
});
