// Client for the CA service over HTTP (fetch only, runtime-neutral), shaped like the in-process CA
// so `issueWorkloadCredentials(createCaClient(url), id)` works across processes.
import type { SignedLeaf } from "./ca.ts";

export type CaClient = {
  sign(csrPem: string, spiffeId: string, opts?: { ttlMs?: number }): Promise<SignedLeaf>;
  trustBundlePem(): Promise<string>;
};

const DEFAULT_TIMEOUT_MS = 10_000;

export function createCaClient(baseUrl: string, opts?: { timeoutMs?: number }): CaClient {
  const base = baseUrl.replace(/\/+$/, "");
  const timeoutMs = opts?.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  async function call(path: string, init: RequestInit): Promise<Record<string, unknown>> {
    const url = `${base}${path}`;
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new Error(`CA at ${base} unreachable (${url}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      const reason = isRecord(body) && typeof body.error === "string" ? body.error : text.slice(0, 200);
      throw new Error(`CA at ${base} answered ${res.status} for ${path}: ${reason}`);
    }
    if (!isRecord(body)) throw new Error(`CA at ${base} sent a non-JSON answer for ${path}`);
    return body;
  }

  return {
    async sign(csrPem, spiffeId, signOpts) {
      const payload: Record<string, unknown> = { csrPem, spiffeId };
      if (signOpts?.ttlMs !== undefined) payload.ttlMs = signOpts.ttlMs;
      const body = await call("/v1/sign", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      const notAfter = typeof body.notAfter === "string" ? new Date(body.notAfter) : undefined;
      if (typeof body.certChainPem !== "string" || !notAfter || Number.isNaN(notAfter.getTime())) {
        throw new Error(`CA at ${base} sent a malformed sign answer`);
      }
      return { certChainPem: body.certChainPem, notAfter };
    },
    async trustBundlePem() {
      const body = await call("/v1/trust-bundle", { method: "GET" });
      if (typeof body.trustBundlePem !== "string") throw new Error(`CA at ${base} sent a malformed trust bundle answer`);
      return body.trustBundlePem;
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
