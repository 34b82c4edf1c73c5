// Outbound mTLS client: one Bun.FetchSession per (endpoint, expected SPIFFE id), so Bun's native pool keeps connections
// and checkServerIdentity runs once per connection (never per request, which would kill reuse). Errors become UpstreamError.

import { UpstreamError, type Endpoint } from "../../shared/types.ts";
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";
import { verifyPeer } from "./peer-identity.ts";
import { stripHopByHop } from "../../shared/http/hop-by-hop.ts";
import { markAbsent } from "../../shared/filters/identity.ts";
import { authorityOf, pathAndQuery } from "../../shared/http/url.ts";
import { classifyFetchError } from "./fetch-errors.ts";
import { sameMaterial } from "./tls-material.ts";
import type { MeshClient, SendOptions, TlsMaterial } from "../ports.ts";

type Pool = {
  readonly session: Bun.FetchSession;
  readonly creds: TlsMaterial;
  /** Errors this pool's identity check returned, so a failure can be told apart from other TLS errors. */
  readonly mismatches: WeakSet<object>;
  /** A response has arrived since the last failure: connections are being made fine, so no connect timer is needed. */
  healthy: boolean;
  lastUsed: number;
};

// Idle pooled connections must close on the client side first, or a request can race the server's idle close
// and die as a reset. Bun rounds this up by up to two 4 s steps, so inbound idleTimeoutMs should exceed it by ~10 s.
const DEFAULT_IDLE_SECONDS = 20;

function createPool(creds: TlsMaterial, expected: string, idleSeconds: number): Pool {
  const trustDomain = parseSpiffeId(expected)?.trustDomain ?? "";
  const mismatches = new WeakSet<object>();
  const session = new Bun.FetchSession({
    tls: {
      key: creds.keyPem,
      cert: creds.certChainPem,
      ca: creds.trustBundlePem,
      rejectUnauthorized: true,
      // Runs after the chain verified against the trust bundle; the hostname is irrelevant in the mesh, the SPIFFE id is what counts.
      checkServerIdentity(_host, cert) {
        // The leaf must meet the X509-SVID rules as a server, and carry exactly the id this pool insists on.
        const verdict = verifyPeer((cert as { raw?: Uint8Array }).raw, trustDomain, "server");
        const err = !verdict.ok
          ? new Error(`upstream certificate refused: ${verdict.reason}`)
          : verdict.spiffeId === expected
            ? undefined
            : new Error(`upstream identity ${verdict.spiffeId} is not the expected ${expected}`);
        if (err !== undefined) mismatches.add(err);
        return err;
      },
    },
    keepAlive: { idleTimeout: idleSeconds },
  });
  return { session, creds, mismatches, healthy: false, lastUsed: performance.now() };
}

/** The URL to dial (endpoint address, request path and query) and the Host to send (the request's own authority). */
function upstreamTarget(endpoint: Endpoint, req: Request): { url: string; headers: Headers } {
  const addr = endpoint.address.includes(":") ? `[${endpoint.address}]` : endpoint.address;
  const headers = stripHopByHop(req.headers);
  if (!headers.has("host")) headers.set("host", authorityOf(req.url));
  markAbsent(headers);
  return { url: `https://${addr}:${endpoint.port}${pathAndQuery(req.url)}`, headers };
}


export function createMeshClient(opts: { credentials: () => TlsMaterial; idleTimeoutSeconds?: number }): MeshClient {
  const idleSeconds = opts.idleTimeoutSeconds ?? DEFAULT_IDLE_SECONDS;
  const pools = new Map<string, Pool>();
  let closed = false;
  // Endpoints come and go with discovery: forget pools nobody used for a while (their sockets idle out anyway).
  const sweep = setInterval(() => {
    const cutoff = performance.now() - 2 * idleSeconds * 1000 - 60_000;
    for (const [key, p] of pools) {
      if (p.lastUsed < cutoff) {
        p.session.close();
        pools.delete(key);
      }
    }
  }, 60_000);
  sweep.unref();

  function poolFor(endpoint: Endpoint, expected: string): Pool {
    const key = `${endpoint.address}|${endpoint.port}|${expected}`;
    const creds = opts.credentials();
    let pool = pools.get(key);
    // New credentials (rotation) start a new pool; the old one's in-flight requests finish on their connections.
    if (pool === undefined || !sameMaterial(pool.creds, creds)) {
      pool?.session.close();
      pool = createPool(creds, expected, idleSeconds);
      pools.set(key, pool);
    }
    pool.lastUsed = performance.now();
    return pool;
  }

  return {
    async send(endpoint, expectedSpiffeId, req, sendOpts: SendOptions) {
      if (closed) throw new UpstreamError("connect-failure", "mesh client is closed");
      const { signal, connectTimeoutMs } = sendOpts;
      signal.throwIfAborted();
      const pool = poolFor(endpoint, expectedSpiffeId);
      // fetch cannot tell us when a connection is up, so the connect timer only guards a pool that has not
      // produced a response yet (first use, or after a failure): there, no response in time = could not connect.
      const ac = new AbortController();
      let connectTimedOut = false;
      const timer = pool.healthy
        ? undefined
        : setTimeout(() => {
            connectTimedOut = true;
            ac.abort(new Error("connect timeout"));
          }, connectTimeoutMs);
      // Stays attached after the head arrives, so an abort also cancels the streaming response body.
      const onAbort = (): void => ac.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
      try {
        const target = upstreamTarget(endpoint, req);
        const res = await pool.session.fetch(target.url, {
          method: req.method,
          headers: target.headers,
          body: hasBody ? req.body : undefined,
          signal: ac.signal,
          redirect: "manual",
          decompress: false,
          duplex: "half",
        } as RequestInit);
        pool.healthy = true;
        return res;
      } catch (e) {
        signal.removeEventListener("abort", onAbort);
        pool.healthy = false;
        if (signal.aborted) throw signal.reason;
        if (connectTimedOut) throw new UpstreamError("connect-failure", `connect to ${endpoint.address}:${endpoint.port} timed out after ${connectTimeoutMs} ms`, { cause: e });
        if (typeof e === "object" && e !== null && pool.mismatches.has(e)) throw new UpstreamError("identity-mismatch", (e as Error).message, { cause: e });
        throw new UpstreamError(classifyFetchError(e), `upstream ${endpoint.address}:${endpoint.port}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const p of pools.values()) p.session.close();
      pools.clear();
    },
  };
}
