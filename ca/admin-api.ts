// The CA's admin API, on 127.0.0.1 only and behind the admin secret from the state directory: join tokens (create,
// list, revoke) and root rotation (start, status). `meshctl token|ca` is its client; the CA process is the one writer.
import { JoinTokenError, MAX_TOKEN_TTL_MS, MAX_TOKEN_USES, type TokenRecord, type TokenStore } from "../shared/pki/join-tokens.ts";
import { formatSpiffeId } from "../shared/pki/spiffe.ts";
import { DEFAULTS } from "../shared/config/defaults.ts";
import { json, readJsonObject, refuse, type CaLog } from "./http.ts";
import { RotationError, type CaTrust } from "./trust.ts";

export type AdminApiDeps = { trust: CaTrust; tokens: TokenStore; adminSecret: string; log: CaLog };

const MIN_PROPAGATE_S = 1;
const MAX_PROPAGATE_S = 7 * 24 * 3600;

/** A record as the admin sees it: never the hash, plus its state in one word. */
export function publicRecord(r: TokenRecord, now = Date.now()) {
  const state = r.revoked ? "revoked" : Date.parse(r.expiresAt) <= now ? "expired" : r.usesLeft <= 0 ? "used-up" : "valid";
  return { id: r.id, spiffeId: r.spiffeId, createdAt: r.createdAt, expiresAt: r.expiresAt, usesLeft: r.usesLeft, revoked: r.revoked, state };
}

function sameSecret(given: string, want: string): boolean {
  let diff = given.length ^ want.length;
  for (let i = 0; i < want.length; i++) diff |= (given.charCodeAt(i) || 0) ^ want.charCodeAt(i);
  return diff === 0;
}

export function createAdminApi(d: AdminApiDeps): (req: Request) => Promise<Response> {
  async function create(req: Request): Promise<Response> {
    const body = await readJsonObject(req);
    if (body instanceof Response) return body;
    const { service, namespace, ttlSeconds, uses } = body;
    if (typeof service !== "string") return refuse(400, "bad-request", "service must be a string");
    if (namespace !== undefined && typeof namespace !== "string") return refuse(400, "bad-request", "namespace must be a string");
    const ttl = ttlSeconds ?? 3600;
    const n = uses ?? 1;
    if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl * 1000 > MAX_TOKEN_TTL_MS) return refuse(400, "bad-request", "ttlSeconds must be an integer from 1 to 365 days");
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_TOKEN_USES) return refuse(400, "bad-request", `uses must be an integer from 1 to ${MAX_TOKEN_USES}`);
    let spiffeId: string;
    try {
      spiffeId = formatSpiffeId({ trustDomain: d.trust.trustDomain, namespace: namespace ?? DEFAULTS.namespace, service });
    } catch (err) {
      return refuse(400, "bad-request", err instanceof Error ? err.message : String(err));
    }
    const { token, record } = await d.tokens.mint({ spiffeId, ttlMs: ttl * 1000, uses: n });
    d.log("info", "join token created", { tokenId: record.id, spiffeId, expiresAt: record.expiresAt, uses: n });
    return json(201, { token, ...publicRecord(record) });
  }

  async function rotate(req: Request): Promise<Response> {
    const body = await readJsonObject(req);
    if (body instanceof Response) return body;
    const p = body.propagateSeconds ?? 60;
    if (typeof p !== "number" || !Number.isFinite(p) || p < MIN_PROPAGATE_S || p > MAX_PROPAGATE_S) {
      return refuse(400, "bad-request", `propagateSeconds must be a number from ${MIN_PROPAGATE_S} to ${MAX_PROPAGATE_S}`);
    }
    try {
      return json(202, await d.trust.startRotation(Math.round(p * 1000)));
    } catch (err) {
      if (err instanceof RotationError) return refuse(409, err.code, err.message);
      throw err;
    }
  }

  return async (req) => {
    const { pathname } = new URL(req.url);
    if (pathname === "/ready") return json(200, { ready: true });
    const auth = req.headers.get("authorization") ?? "";
    if (!auth.startsWith("Bearer ") || !sameSecret(auth.slice(7).trim(), d.adminSecret)) {
      return refuse(401, "admin-secret-required", "send the admin secret from the CA's state directory (admin-secret) as `Authorization: Bearer <secret>`");
    }
    try {
      if (pathname === "/v1/tokens" && req.method === "GET") return json(200, { tokens: d.tokens.list().map((r) => publicRecord(r)) });
      if (pathname === "/v1/tokens" && req.method === "POST") return await create(req);
      if (pathname === "/v1/rotation" && req.method === "POST") return await rotate(req);
      if (pathname === "/v1/status" && req.method === "GET") return json(200, d.trust.status());
      const m = /^\/v1\/tokens\/([0-9a-f]{16})\/revoke$/.exec(pathname);
      if (m !== null && req.method === "POST") {
        const r = await d.tokens.revoke(m[1]!);
        if (r === undefined) return refuse(404, "token-unknown", `no join token with id ${m[1]}`);
        d.log("info", "join token revoked", { tokenId: r.id, spiffeId: r.spiffeId });
        return json(200, publicRecord(r));
      }
      return refuse(404, "not-found", "admin API: GET/POST /v1/tokens, POST /v1/tokens/<id>/revoke, POST /v1/rotation, GET /v1/status");
    } catch (err) {
      if (err instanceof JoinTokenError) return refuse(400, err.code, err.message);
      d.log("error", "admin request failed", { path: pathname, err: String(err) });
      return refuse(500, "internal", err instanceof Error ? err.message : String(err));
    }
  };
}
