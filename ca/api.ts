// The CA's member-facing API (HTTPS): the trust bundle, joining with a token (POST /v1/join) and renewing with the
// current leaf as client certificate (POST /v1/renew). Each refusal says which rule failed, as { error, message }.
import { CaRequestError, type CertificateAuthority } from "../shared/pki/ca.ts";
import { JoinTokenError, type TokenStore } from "../shared/pki/join-tokens.ts";
import { parseSpiffeId } from "../shared/pki/spiffe.ts";
import type { ClientCertificate } from "../runtime/bun/client-cert-server.ts";
import { json, readJsonObject, refuse, type CaLog } from "./http.ts";

export type CaApiDeps = { ca: CertificateAuthority; tokens: TokenStore; rootFingerprint: string; log: CaLog };

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

async function issue(ca: CertificateAuthority, r: SignRequest) {
  const signed = await ca.sign(r.csrPem, r.spiffeId, r.ttlMs === undefined ? undefined : { ttlMs: r.ttlMs });
  return { certChainPem: signed.certChainPem, trustBundlePem: ca.trustBundlePem(), notAfter: signed.notAfter.toISOString() };
}

export function createCaApi(d: CaApiDeps): (req: Request, client: ClientCertificate) => Promise<Response> {
  const { ca, tokens, log } = d;

  async function join(req: Request): Promise<Response> {
    const body = await readJsonObject(req);
    if (body instanceof Response) return body;
    if (typeof body.token !== "string" || body.token === "") return refuse(400, "bad-request", "token must be a non-empty string");
    const r = signRequest(body, ca.trustDomain);
    if (r instanceof Response) return r;
    const token = body.token;
    try {
      await tokens.check(token, r.spiffeId);
      const answer = await issue(ca, r);
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
    const r = signRequest(body, ca.trustDomain);
    if (r instanceof Response) return r;
    if (r.spiffeId !== client.spiffeId) {
      log("warn", "renewal refused", { peer: client.spiffeId, requested: r.spiffeId });
      return refuse(403, "identity-mismatch", `a certificate for ${client.spiffeId} can only renew ${client.spiffeId}, not ${r.spiffeId}`);
    }
    const answer = await issue(ca, r);
    log("info", "certificate renewed", { spiffeId: r.spiffeId, notAfter: answer.notAfter });
    return json(200, answer);
  }

  return async (req, client) => {
    const { pathname } = new URL(req.url);
    try {
      const only = (method: string, run: () => Response | Promise<Response>) => (req.method === method ? run() : refuse(405, "method-not-allowed", `use ${method}`));
      switch (pathname) {
        case "/ready":
          return only("GET", () => json(200, { ready: true }));
        case "/v1/trust-bundle":
          return only("GET", () => json(200, { trustDomain: ca.trustDomain, trustBundlePem: ca.trustBundlePem(), rootFingerprints: [d.rootFingerprint] }));
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
