// Outbound mTLS client on Deno: one node:https Agent (keep-alive pool) per (endpoint, expected SPIFFE id, credentials),
// so checkServerIdentity runs once per connection and insists on the destination's id. Errors become UpstreamError.
import * as https from "node:https";
import type { Endpoint } from "../../shared/types.ts";
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";
import { createSvidCache } from "../../shared/pki/svid-cache.ts";

const checkX509Svid = createSvidCache();
import { stripHopByHop } from "../../shared/http/hop-by-hop.ts";
import { markAbsent } from "../../shared/filters/identity.ts";
import { authorityOf, pathAndQuery } from "../../shared/http/url.ts";
import { UpstreamError } from "../../shared/types.ts";
import type { MeshClient, SendOptions, TlsMaterial } from "../ports.ts";
import { sendOverAgent } from "./node-request.ts";
import { sameMaterial } from "./tls-material.ts";

type Pool = {
  readonly agent: https.Agent;
  readonly creds: TlsMaterial;
  /** Errors this pool's identity check returned, so a mismatch can be told apart from other TLS errors. */
  readonly mismatches: WeakSet<object>;
  lastUsed: number;
};

// Idle pooled connections must close on the client side first, or a request can race the inbound's idle close
// (60 s by default) and die as a reset. The same figure as the Bun client.
const DEFAULT_IDLE_MS = 20_000;

function createPool(creds: TlsMaterial, expected: string, idleMs: number): Pool {
  const trustDomain = parseSpiffeId(expected)?.trustDomain ?? "";
  const mismatches = new WeakSet<object>();
  const agent = new https.Agent({
    keepAlive: true,
    timeout: idleMs,
    key: creds.keyPem,
    cert: creds.certChainPem,
    ca: creds.trustBundlePem,
    rejectUnauthorized: true,
    // Runs after the chain verified against the trust bundle; the hostname is irrelevant in the mesh, the SPIFFE id is what counts.
    checkServerIdentity(_host, cert) {
      // Same rules as on Bun: the leaf must meet X509-SVID as a server and carry exactly the expected id.
      const raw = (cert as { raw?: Uint8Array }).raw;
      const verdict = raw === undefined ? ({ ok: false, reason: "no peer certificate" } as const) : checkX509Svid(raw, trustDomain, "server");
      const err = !verdict.ok
        ? new Error(`upstream certificate refused: ${verdict.reason}`)
        : verdict.spiffeId === expected
          ? undefined
          : new Error(`upstream identity ${verdict.spiffeId} is not the expected ${expected}`);
      if (err !== undefined) mismatches.add(err);
      return err;
    },
  });
  return { agent, creds, mismatches, lastUsed: performance.now() };
}

/**
 * node:https invents no User-Agent or Accept, but the mesh's convention is that the sending member always says
 * which of the two its request lacked, so the receiving inbound (shared/filters/identity.ts) can rely on the header
 * being ours: a value a downstream sent is replaced or removed here, never passed on.
 */

/** True while the agent has a request on one of its sockets (destroying it then would cut that request). */
function busy(agent: https.Agent): boolean {
  return Object.values(agent.sockets).some((list) => (list?.length ?? 0) > 0);
}

export function createMeshClient(opts: { credentials: () => TlsMaterial; idleTimeoutMs?: number }): MeshClient {
  const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_MS;
  const pools = new Map<string, Pool>();
  /** Pools replaced by a rotation: destroyed once their in-flight requests are done. */
  const retired = new Set<https.Agent>();
  let closed = false;
  // Endpoints come and go with discovery: forget pools nobody used for a while (their sockets idle out anyway).
  const sweep = setInterval(() => {
    const cutoff = performance.now() - 2 * idleMs - 60_000;
    for (const [key, p] of pools) {
      if (p.lastUsed < cutoff && !busy(p.agent)) {
        p.agent.destroy();
        pools.delete(key);
      }
    }
    for (const a of retired) {
      if (!busy(a)) {
        a.destroy();
        retired.delete(a);
      }
    }
  }, 10_000);
  sweep.unref();

  function poolFor(endpoint: Endpoint, expected: string): Pool {
    const key = `${endpoint.address}|${endpoint.port}|${expected}`;
    const creds = opts.credentials();
    let pool = pools.get(key);
    // New credentials (rotation) start a new pool; the old one's in-flight requests finish on their connections.
    if (pool === undefined || !sameMaterial(pool.creds, creds)) {
      if (pool !== undefined) retired.add(pool.agent);
      pool = createPool(creds, expected, idleMs);
      pools.set(key, pool);
    }
    pool.lastUsed = performance.now();
    return pool;
  }

  return {
    async send(endpoint, expectedSpiffeId, req, sendOpts: SendOptions) {
      if (closed) throw new UpstreamError("connect-failure", "mesh client is closed");
      const pool = poolFor(endpoint, expectedSpiffeId);
      const headers = stripHopByHop(req.headers);
      if (!headers.has("host")) headers.set("host", authorityOf(req.url));
      markAbsent(headers);
      const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
      return sendOverAgent({
        request: https.request,
        agent: pool.agent,
        connectedEvent: "secureConnect",
        address: endpoint.address,
        port: endpoint.port,
        method: req.method,
        path: pathAndQuery(req.url),
        headers,
        body: hasBody ? req.body : null,
        signal: sendOpts.signal,
        connectTimeoutMs: sendOpts.connectTimeoutMs,
        kindOf: (err) => (typeof err === "object" && err !== null && pool.mismatches.has(err) ? "identity-mismatch" : undefined),
      });
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const p of pools.values()) p.agent.destroy();
      for (const a of retired) a.destroy();
      pools.clear();
      retired.clear();
    },
  };
}
