// Permissive mTLS per service over real sockets and real sidecars (certificates from our own CA service): one inbound
// port answers plaintext (no identity, authorized only by "unauthenticated" rules) and mTLS; strict refuses plaintext.
import { afterAll, beforeAll, expect, test } from "bun:test";
import * as tls from "node:tls";
import { TestMesh, rawRequest, startTestApp, statusOf } from "./support/mesh.ts";
import { freePort } from "../deploy/lib/ports.ts";
import { until } from "./support/until.ts";
import { createCertificateAuthority } from "../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../shared/pki/workload.ts";

const WEB_ID = "spiffe://mesh.local/ns/default/svc/web";
const mesh = new TestMesh();
const legacyApp = startTestApp("legacy");
const apiApp = startTestApp("api");
const webApp = startTestApp("web");
const ports = { legacy: 0, api: 0, web: 0 };
let webOutbound = 0;
let legacy = { pid: 0, adminPort: 0 };

const config = (modes: { legacy: string; api: string }) => ({
  trustDomain: "mesh.local",
  services: {
    legacy: { mtls: modes.legacy, instances: [{ id: "legacy-1", address: "127.0.0.1", port: ports.legacy }] },
    api: { mtls: modes.api, instances: [{ id: "api-1", address: "127.0.0.1", port: ports.api }] },
    web: { instances: [{ id: "web-1", address: "127.0.0.1", port: ports.web }] },
  },
  authorization: {
    legacy: {
      default: "allow",
      rules: [
        { name: "old-clients-read", action: "allow", from: ["unauthenticated"], methods: ["GET"], paths: [{ prefix: "/public" }] },
        { name: "no-admin", action: "deny", from: ["*"], paths: [{ prefix: "/public/admin" }] },
      ],
    },
  },
});

beforeAll(async () => {
  await mesh.startCa();
  for (const k of ["legacy", "api", "web"] as const) ports[k] = await freePort();
  const path = mesh.writeConfig(config({ legacy: "permissive", api: "strict" }));
  legacy = await mesh.startSidecar({ config: path, service: "legacy", appPort: legacyApp.port, inboundPort: ports.legacy });
  await mesh.startSidecar({ config: path, service: "api", appPort: apiApp.port, inboundPort: ports.api });
  webOutbound = (await mesh.startSidecar({ config: path, service: "web", appPort: webApp.port, inboundPort: ports.web })).outboundPort;
}, 60_000);

afterAll(async () => {
  await mesh.stop();
  for (const app of [legacyApp, apiApp, webApp]) app.stop();
});

const plaintext = (port: number, path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, keepalive: false });
const fromWeb = (service: string, path: string) => fetch(`http://127.0.0.1:${webOutbound}${path}`, { headers: { host: service } });
const plaintextAnswered = async (port: number): Promise<boolean> => statusOf(await rawRequest(port, "GET /public/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1000)) !== 0;

/** A TLS client that is not a mesh member as it should be: `certs` from another CA, or none. */
async function foreignTls(port: number, certs: { keyPem: string; certChainPem: string } | undefined): Promise<string> {
  const sock = tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...(certs ? { key: certs.keyPem, cert: certs.certChainPem } : {}) });
  let out = "";
  sock.on("data", (d: Buffer) => (out += d.toString("latin1")));
  return new Promise((resolve) => {
    sock.once("secureConnect", () => sock.write("GET /public/x HTTP/1.1\r\nHost: legacy\r\nConnection: close\r\n\r\n"));
    sock.once("error", (e) => resolve(`error: ${e.message}`));
    sock.once("close", () => resolve(out));
    setTimeout(() => (sock.destroy(), resolve(out)), 3000);
  });
}

test("permissive: a plaintext caller is answered with no identity at the app, even when it claims one", async () => {
  const before = legacyApp.seen.length;
  const res = await plaintext(ports.legacy, "/public/hello", { headers: { "x-mesh-client-id": WEB_ID, "x-forwarded-for": "10.9.9.9", "x-forwarded-proto": "https" } });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { caller: string | null }).caller).toBeNull();
  const seen = legacyApp.seen.slice(before);
  expect(seen).toHaveLength(1);
  expect(seen[0]!.headers["x-mesh-client-id"]).toBeUndefined();
  expect(seen[0]!.headers["x-forwarded-for"]).toBeUndefined();
  expect(seen[0]!.headers["x-forwarded-proto"]).toBe("http");
});

test("permissive: a plaintext caller is denied unless a rule allows unauthenticated callers (default allow does not admit it)", async () => {
  const before = legacyApp.seen.length;
  const post = await plaintext(ports.legacy, "/public/hello", { method: "POST", body: "x" });
  expect(post.status).toBe(403);
  expect(((await post.json()) as { message: string }).message).toContain('allows "unauthenticated" callers');
  const other = await plaintext(ports.legacy, "/private");
  expect(other.status).toBe(403);
  const admin = await plaintext(ports.legacy, "/public/admin/users");
  expect(admin.status).toBe(403);
  expect(admin.headers.get("x-mesh-authz-rule")).toBe("no-admin");
  expect(legacyApp.seen.length).toBe(before);
});

test("permissive: an mTLS caller on the same port carries its identity and gets the default allow", async () => {
  const res = await fromWeb("legacy", "/private");
  expect(res.status).toBe(200);
  expect(((await res.json()) as { caller: string }).caller).toBe(WEB_ID);
  expect((await fromWeb("legacy", "/public/admin/x")).status).toBe(403);
});

test("permissive: a TLS client with a certificate from another CA, or none, is still refused", async () => {
  const before = legacyApp.seen.length;
  const otherCa = await createCertificateAuthority({ trustDomain: "mesh.local" });
  const forged = await issueWorkloadCredentials(otherCa, WEB_ID);
  for (const certs of [forged, undefined]) expect(await foreignTls(ports.legacy, certs)).not.toContain("HTTP/1.1");
  expect(legacyApp.seen.length).toBe(before);
  await until(async () => mesh.group.output(legacy.pid).includes("peer certificate refused") || mesh.group.output(legacy.pid).includes("handshake refused"), 2000);
});

test("strict: the inbound refuses plaintext; mTLS callers get through", async () => {
  const before = apiApp.seen.length;
  expect(await plaintextAnswered(ports.api)).toBe(false);
  await expect(plaintext(ports.api, "/public/x")).rejects.toThrow();
  expect(apiApp.seen.length).toBe(before);
  expect((await fromWeb("api", "/x")).status).toBe(200);
});

test("the mode follows the config live on the same port: legacy → strict, api → permissive, and back", async () => {
  mesh.writeConfig(config({ legacy: "strict", api: "permissive" }));
  const took = await until(async () => !(await plaintextAnswered(ports.legacy)) && (await plaintextAnswered(ports.api)), 5000);
  console.log(`mtls mode change applied in ${Math.round(took)} ms`);
  const info = (await (await fetch(`http://127.0.0.1:${legacy.adminPort}/info`)).json()) as { inboundMode: string };
  expect(info.inboundMode).toBe("strict");
  // mTLS keeps working across the switch on both.
  expect((await fromWeb("legacy", "/private")).status).toBe(200);
  expect((await fromWeb("api", "/x")).status).toBe(200);
  // api is permissive now but has no rule for unauthenticated callers: its plaintext callers get 403, never the app.
  const before = apiApp.seen.length;
  expect((await plaintext(ports.api, "/x")).status).toBe(403);
  expect(apiApp.seen.length).toBe(before);

  mesh.writeConfig(config({ legacy: "permissive", api: "strict" }));
  await until(async () => (await plaintextAnswered(ports.legacy)) && !(await plaintextAnswered(ports.api)), 5000);
  expect((await plaintext(ports.legacy, "/public/again")).status).toBe(200);
});
