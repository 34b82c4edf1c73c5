// The CA's member-facing API (HTTPS): the trust bundle, joining with a token (POST /v1/join) and renewing with the
// current leaf as client certificate (POST /v1/renew). Each refusal says which rule failed, as { error, message }.
import { CaRequestError } from "../shared/pki/ca.ts";
import { JoinTokenError, type TokenStore } from "../shared/pki/join-tokens.ts";
import { parseSpiffeId } from "../shared/pki/spiffe.ts";
import type { ClientCertificate } from "../runtime/bun/client-cert-server.ts";
import { json, readJsonObject, refuse, type CaLog } from "./http.ts";
import type { CaTrust } from "./trust.ts";

export type CaApiDeps = { trust: CaTrust; tokens: TokenStore; log: CaLog };

/** Longest a bundle watch is held; below the listener's idle timeout and the members' own wait plus margin. */
const MAX_WATCH_MS = 25_000;

type SignRequest = { csrPem: string; spiffeId: string; ttlMs: number | undefined };

/** The common fields of join and renew, or the 400 that says what is wrong with them. */
function signRequest(body: Record<string, unknown>, trustDomain: string): SignRequest | Response {
  const { csrPem, spiffeId, ttlMs } = body;
  if (typeof csrPem !== "string" || typeof spiffeId !== "string") return refuse(400, "bad-request", "csrPem and spiffeId must be strings");
  if (ttlMs !== undefined && typeof ttlMs !== "number") return refuse(400, "bad-request", "ttlMs must be a number");
  const id = parseSpiffeId(spiffeId);
  if (id === undefined) return refuse(400, "bad-request", `not a workload SPIFFE id (spiffe://TD/ns/NS/svc/NAME): ${JSON.stringify(spiffeId)}`);
  if (id.trustDomain !== trustDomain) return refuse(400, "wrong-trust-domain", `${spiffeId} is outside this CA's trust domain ${trustDomain}`);
  return { csrPem, spiffeId, ttlMs };
}

async function issue(trust: CaTrust, r: SignRequest) {
  const signed = await trust.signer().sign(r.csrPem, r.spiffeId, r.ttlMs === undefined ? undefined : { ttlMs: r.ttlMs });
  // Recorded so a rotation knows how long the signing root must stay in the bundle after it stops signing.
  trust.recordIssued(signed.notAfter);
  return { certChainPem: signed.certChainPem, trustBundlePem: trust.bundlePem(), notAfter: signed.notAfter.toISOString() };
}

/** `?wait=20s` or `?wait=20000ms`, capped; anything else means no wait. */
function waitMs(raw: string | null): number {
  const m = raw === null ? null : /^(\d{1,6})(ms|s)?$/.exec(raw);
  if (m === null) return 0;
  return Math.min(MAX_WATCH_MS, Number(m[1]) * (m[2] === "ms" ? 1 : 1000));
}

export function createCaApi(d: CaApiDeps): (req: Request, client: ClientCertificate) => Promise<Response> {
  const { trust, tokens, log } = d;
  const trustDomain = trust.trustDomain;

  /** The bundle now, or (with ?index=N) once it differs from N: members long-poll this to follow a rotation. */
  async function trustBundle(url: URL, client: ClientCertificate): Promise<Response> {
    const rawIndex = url.searchParams.get("index");
    if (rawIndex !== null) {
      const index = Number(rawIndex);
      if (!Number.isSafeInteger(index) || index < 0) return refuse(400, "bad-request", "index must be a non-negative integer");
      const member = url.searchParams.get("member");
      // Only verified members count towards "everyone holds the new root": an anonymous watcher proves nothing.
      if (member !== null && member.length <= 128 && client.ok) trust.memberSeen(member, client.spiffeId, index);
      await trust.waitForChange(index, waitMs(url.searchParams.get("wait")));
    }
    return json(200, trust.state());
  }

  async function join(req: Request): Promise<Response> {
    const body = await readJsonObject(req);
    if (body instanceof Response) return body;
    if (typeof body.token !== "string" || body.token === "") return refuse(400, "bad-request", "token must be a non-empty string");
    const r = signRequest(body, trustDomain);
    if (r instanceof Response) return r;
    const token = body.token;
    try {
      await tokens.check(token, r.spiffeId);
      const answer = await issue(trust, r);
      // Checked again and a use taken only now, after signing: a bad CSR costs no use, and a token used up meanwhile
      // (a concurrent join) still refuses here.
      const rec = await tokens.consume(token, r.spiffeId);
      log("info", "member joined", { spiffeId: r.spiffeId, tokenId: rec.id, usesLeft: rec.usesLeft, notAfter: answer.notAfter });
      return json(200, { ...answer, tokenId: rec.id });
    } catch (err) {
      if (err instanceof JoinTokenError) {
        log("warn", "join refused", { spiffeId: r.spiffeId, error: err.code, reason: err.message });
        return refuse(403, err.code, err.message);
      }
      throw err;
    }
  }

  async function renew(req: Request, client: ClientCertificate): Promise<Response> {
    if (!client.ok) {
      return refuse(401, "client-certificate-required", `renewal needs the member's current certificate over mTLS (${client.reason}); a member whose certificate expired joins again with a token`);
    }
    const body = await readJsonObject(req);
    if (body instanceof Response) return body;
    const r = signRequest(body, trustDomain);
    if (r instanceof Response) return r;
    if (r.spiffeId !== client.spiffeId) {
      log("warn", "renewal refused", { peer: client.spiffeId, requested: r.spiffeId });
      return refuse(403, "identity-mismatch", `a certificate for ${client.spiffeId} can only renew ${client.spiffeId}, not ${r.spiffeId}`);
    }
    const answer = await issue(trust, r);
    log("info", "certificate renewed", { spiffeId: r.spiffeId, notAfter: answer.notAfter });
    return json(200, answer);
  }

  return async (req, client) => {
    const url = new URL(req.url);
    const { pathname } = url;
    try {
      const only = (method: string, run: () => Response | Promise<Response>) => (req.method === method ? run() : refuse(405, "method-not-allowed", `use ${method}`));
      switch (pathname) {
        case "/ready":
          return only("GET", () => json(200, { ready: true }));
        case "/v1/trust-bundle":
          return await only("GET", () => trustBundle(url, client));
        case "/v1/join":
          return await only("POST", () => join(req));
        case "/v1/renew":
          return await only("POST", () => renew(req, client));
        default:
          return refuse(404, "not-found", `no ${pathname} here; the CA serves /ready, /v1/trust-bundle, /v1/join, /v1/renew`);
      }
    } catch (err) {
      if (err instanceof CaRequestError) return refuse(400, "bad-request", err.message);
      log("error", "ca request failed", { path: pathname, err: String(err) });
      return refuse(500, "internal", "internal CA error");
    }
  };
}
