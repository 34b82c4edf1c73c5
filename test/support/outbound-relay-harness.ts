// Shared setup of the outbound relay's socket tests: a CA and SVIDs, mTLS upstreams, and a listener whose only way to
// an upstream is the relay (its full path answers 299), each test's servers closed after it by `cleanup`.
import { createCertificateAuthority } from "../../shared/pki/ca.ts";
import { issueWorkloadCredentials } from "../../shared/pki/workload.ts";
import { compileSnapshot } from "../../shared/build/compile.ts";
import { createOutboundPlanner } from "../../shared/proxy/outbound-relay-plan.ts";
import { createObservation, type RequestEvent } from "../../shared/telemetry/observe.ts";
import type { MeshConfig } from "../../shared/config/schema.ts";
import type { Forwarder, Snapshot } from "../../shared/proxy/snapshot.ts";
import { startMtlsServer } from "../../runtime/bun/inbound-server.ts";
import { startHttpServer } from "../../runtime/bun/http-server.ts";
import { outboundRelayStarter } from "../../runtime/bun/outbound-relay.ts";
import { createUpstreamPool } from "../../runtime/bun/upstream-pool.ts";
import type { MtlsServer, TlsMaterial } from "../../runtime/ports.ts";

export const TD = "out.test";
const ca = await createCertificateAuthority({ trustDomain: TD });
const other = await createCertificateAuthority({ trustDomain: TD });
export const bundle = ca.trustBundlePem();
const withBundle = async (c: Promise<TlsMaterial>): Promise<TlsMaterial> => ({ ...(await c), trustBundlePem: bundle });
export const apiCreds = await withBundle(issueWorkloadCredentials(ca, `spiffe://${TD}/ns/default/svc/api`));
export const impostor = await withBundle(issueWorkloadCredentials(ca, `spiffe://${TD}/ns/default/svc/other`));
export const foreign = await issueWorkloadCredentials(other, `spiffe://${TD}/ns/default/svc/api`);
export const webCreds = await withBundle(issueWorkloadCredentials(ca, `spiffe://${TD}/ns/default/svc/web`));

export type Seen = { peer: string; path: string; body: string; headers: Headers };
export const LIMITS = { maxHeaderBytes: 8192, headerTimeoutMs: 2000, idleTimeoutMs: 30_000 };

/** Closes what the tests started, newest first: call it after each test. */
export const cleanups: Array<() => unknown> = [];
export async function cleanup(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

export async function mtlsServer(creds: TlsMaterial, seen: Seen[], delayMs = 0): Promise<MtlsServer> {
  const s = await startMtlsServer({
    hostname: "127.0.0.1", port: 0, credentials: () => creds, trustDomain: TD, limits: LIMITS,
    handler: async (req, peer) => {
      seen.push({ peer: peer.spiffeId, path: new URL(req.url).pathname, body: req.body ? await req.text() : "", headers: req.headers });
      if (delayMs > 0) await Bun.sleep(delayMs);
      return new Response("from api");
    },
  });
  cleanups.push(() => s.close({ drainMs: 0 }));
  return s;
}

const noForward: Forwarder = async () => new Response("full path", { status: 299 });

/**
 * A listener whose only path to an upstream is the relay (the full path answers 299, so a test sees which ran);
 * `full` replaces that answer (e.g. the snapshot's own route handlers, to see the full path's policy answers).
 */
export function listener(config: MeshConfig, events: RequestEvent[] = [], full?: (snap: Snapshot, req: Request, target: string) => Promise<Response>): { port: number; snap: Snapshot } {
  const snap = compileSnapshot(config, { version: 1, source: "test", forwarder: () => noForward });
  const observe = createObservation();
  observe.subscribe({ request: (e) => events.push(e) });
  const pool = createUpstreamPool(() => webCreds);
  const starter = outboundRelayStarter({
    planner: createOutboundPlanner({ snapshot: () => snap, table: (s) => s.meshRoutes, proto: "http", trustForwarded: true }),
    pool, observe, listener: "outbound",
  }, "127.0.0.1");
  const server = startHttpServer({
    hostname: "127.0.0.1", port: 0, limits: LIMITS,
    handler: full === undefined ? async () => new Response("full path", { status: 299 }) : (req, _remote, target) => full(snap, req, target),
    relay: () => starter,
  });
  cleanups.push(async () => {
    await server.close({ drainMs: 0 });
    pool.close();
  });
  return { port: server.port, snap };
}

export const meshConfig = (port: number, extra: Partial<MeshConfig> = {}): MeshConfig => ({
  trustDomain: TD,
  services: { api: { instances: [{ id: "api-1", address: "127.0.0.1", port }] } },
  ...extra,
});

export const call = (port: number, path = "/x", init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { host: "api", ...(init.headers ?? {}) } });
