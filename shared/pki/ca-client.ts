// The member's side of the CA protocol over an injected HTTPS transport (the runtime adapter decides how TLS is
// verified): the trust bundle, joining with a token, renewing with the current leaf. Errors say which side failed.
import { splitSubjectAltName } from "./spiffe.ts";

/** The URI SAN in the CA service's own TLS certificate; never a workload id (those are .../ns/N/svc/S). */
export function caServiceId(trustDomain: string): string {
  return `spiffe://${trustDomain}/mesh/ca`;
}

/** True when a TLS stack's `subjectaltname` string has exactly `uri` among its URI entries. */
export function subjectAltNameHasUri(san: string | undefined, uri: string): boolean {
  const entries = san === undefined ? undefined : splitSubjectAltName(san);
  return entries !== undefined && entries.some(([type, value]) => type === "URI" && value === uri);
}

/** `timeoutMs` is set by calls that wait on purpose (the trust-bundle watch); others take the transport's default. */
export type CaTransport = (req: { path: string; method: "GET" | "POST"; body?: string; timeoutMs?: number }) => Promise<{ status: number; text: string }>;

/** The CA could not be reached or its answer was unreadable: worth retrying later. */
export class CaUnreachableError extends Error {
  override readonly name = "CaUnreachableError";
}

/** The CA answered and said no (`code` is its `error` field, e.g. token-expired): retrying the same request won't help. */
export class CaRefusedError extends Error {
  override readonly name = "CaRefusedError";
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** The CA's trust state: every root members must trust now, the one that signs new leaves, and a version number. */
export type TrustBundleState = { trustDomain: string; trustBundlePem: string; index: number; signingRoot: string; rootFingerprints: string[] };

export type IssuedLeaf = { certChainPem: string; trustBundlePem: string; notAfter: Date; tokenId?: string };

export type CaClient = {
  trustBundle(): Promise<{ trustDomain: string; trustBundlePem: string }>;
  /**
   * The trust state once its index differs from `index` (or after `waitMs`, unchanged): a long poll. `member` is a
   * per-run id the CA uses to see which members already hold a rotated bundle.
   */
  watchBundle(o: { index: number; waitMs: number; member: string }): Promise<TrustBundleState>;
  join(o: { token: string; csrPem: string; spiffeId: string; ttlMs?: number }): Promise<IssuedLeaf>;
  /** Must go over a transport that presents the member's current leaf as its client certificate. */
  renew(o: { csrPem: string; spiffeId: string; ttlMs?: number }): Promise<IssuedLeaf>;
};

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function createCaClient(baseUrl: string, transport: CaTransport): CaClient {
  const base = baseUrl.replace(/\/+$/, "");

  async function call(path: string, method: "GET" | "POST", payload?: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>> {
    let res: { status: number; text: string };
    try {
      res = await transport({ path, method, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }), ...(timeoutMs === undefined ? {} : { timeoutMs }) });
    } catch (err) {
      throw new CaUnreachableError(`CA at ${base} unreachable (${path}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    if (res.status < 200 || res.status > 299) {
      if (!isRecord(body) || typeof body.error !== "string") throw new CaUnreachableError(`CA at ${base} answered ${res.status} for ${path}: ${res.text.slice(0, 200)}`);
      const message = typeof body.message === "string" ? body.message : body.error;
      throw new CaRefusedError(res.status, body.error, `CA at ${base} refused ${path} (${res.status} ${body.error}): ${message}`);
    }
    if (!isRecord(body)) throw new CaUnreachableError(`CA at ${base} sent a non-JSON answer for ${path}`);
    return body;
  }

  const leaf = (body: Record<string, unknown>, path: string): IssuedLeaf => {
    const notAfter = typeof body.notAfter === "string" ? new Date(body.notAfter) : undefined;
    if (typeof body.certChainPem !== "string" || typeof body.trustBundlePem !== "string" || notAfter === undefined || Number.isNaN(notAfter.getTime())) {
      throw new CaUnreachableError(`CA at ${base} sent a malformed answer for ${path}`);
    }
    return { certChainPem: body.certChainPem, trustBundlePem: body.trustBundlePem, notAfter, ...(typeof body.tokenId === "string" ? { tokenId: body.tokenId } : {}) };
  };
  const withTtl = (p: Record<string, unknown>, ttlMs: number | undefined) => (ttlMs === undefined ? p : { ...p, ttlMs });

  return {
    async trustBundle() {
      const body = await call("/v1/trust-bundle", "GET");
      if (typeof body.trustBundlePem !== "string" || typeof body.trustDomain !== "string") throw new CaUnreachableError(`CA at ${base} sent a malformed trust bundle answer`);
      return { trustDomain: body.trustDomain, trustBundlePem: body.trustBundlePem };
    },
    async watchBundle(o) {
      const q = `?index=${o.index}&wait=${Math.max(0, Math.floor(o.waitMs / 1000))}s&member=${encodeURIComponent(o.member)}`;
      const body = await call(`/v1/trust-bundle${q}`, "GET", undefined, o.waitMs + 10_000);
      const { trustDomain, trustBundlePem, index, signingRoot, rootFingerprints } = body;
      if (typeof trustBundlePem !== "string" || typeof trustDomain !== "string" || typeof index !== "number" || typeof signingRoot !== "string" || !Array.isArray(rootFingerprints)) {
        throw new CaUnreachableError(`CA at ${base} sent a malformed trust bundle answer (an older CA without rotation?)`);
      }
      return { trustDomain, trustBundlePem, index, signingRoot, rootFingerprints: rootFingerprints.filter((f): f is string => typeof f === "string") };
    },
    async join(o) {
      return leaf(await call("/v1/join", "POST", withTtl({ token: o.token, csrPem: o.csrPem, spiffeId: o.spiffeId }, o.ttlMs)), "/v1/join");
    },
    async renew(o) {
      return leaf(await call("/v1/renew", "POST", withTtl({ csrPem: o.csrPem, spiffeId: o.spiffeId }, o.ttlMs)), "/v1/renew");
    },
  };
}
