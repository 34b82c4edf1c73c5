// Client of the CA's admin API (127.0.0.1 only, admin secret from the CA's state directory): join tokens and root
// rotation. Used by `meshctl token|ca` and by the demo and test harnesses, which mint one token per member.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type TokenInfo = { id: string; spiffeId: string; createdAt: string; expiresAt: string; usesLeft: number; revoked: boolean; state: string };
export type CaRootStatus = { fingerprint: string; role: "signing" | "next" | "retiring"; leavesValidUntil?: string; switchAt?: string };
export type CaTrustStatus = {
  phase: "idle" | "propagating" | "switched";
  signingRoot: string;
  bundleIndex: number;
  roots: CaRootStatus[];
  members: { seen: number; behind: Array<{ member: string; spiffeId: string; index: number; lastSeen: string }> };
};
export type CaAdmin = {
  rotate(o: { propagateSeconds: number }): Promise<CaTrustStatus>;
  status(): Promise<CaTrustStatus>;
  create(o: { service: string; namespace?: string; ttlSeconds?: number; uses?: number }): Promise<TokenInfo & { token: string }>;
  list(): Promise<TokenInfo[]>;
  revoke(id: string): Promise<TokenInfo>;
};

export class CaAdminError extends Error {
  override readonly name = "CaAdminError";
}

/** The admin API did not answer at all (meshctl exits 3, like for an unreachable Consul). */
export class CaUnreachable extends CaAdminError {}

export const DEFAULT_CA_STATE = "/var/lib/mesh-ca";

function readIn(dir: string, name: string, what: string): string {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === "EACCES" ? "permission denied: run as the CA's user (e.g. sudo -u mesh-ca meshctl ...)" : code === "ENOENT" ? `missing${name === "admin.json" ? " (has `ca serve` run with this state directory?)" : ""}` : String(err);
    throw new CaAdminError(`${what} ${join(dir, name)}: ${why}`);
  }
}

/** The admin endpoint and secret: the URL the running CA wrote into its state directory unless `url` is given. */
export function caAdminFromState(stateDir: string, url?: string): CaAdmin {
  const secret = readIn(stateDir, "admin-secret", "CA admin secret").trim();
  const base = url ?? (JSON.parse(readIn(stateDir, "admin.json", "CA admin endpoint")) as { url: string }).url;
  return caAdmin(base, secret);
}

export function caAdmin(baseUrl: string, secret: string): CaAdmin {
  const base = baseUrl.replace(/\/+$/, "");
  async function call(path: string, init: { method: string; body?: unknown }): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method: init.method,
        headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (err) {
      throw new CaUnreachable(`CA admin API at ${base} unreachable (is the CA running on this host?): ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CaAdminError(`CA admin API at ${base} answered ${res.status} without JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const b = body as { error?: string; message?: string };
      throw new CaAdminError(`CA refused (${res.status} ${b.error ?? "?"}): ${b.message ?? text.slice(0, 200)}`);
    }
    return body;
  }
  return {
    rotate: async (o) => (await call("/v1/rotation", { method: "POST", body: o })) as CaTrustStatus,
    status: async () => (await call("/v1/status", { method: "GET" })) as CaTrustStatus,
    create: async (o) => (await call("/v1/tokens", { method: "POST", body: o })) as TokenInfo & { token: string },
    list: async () => ((await call("/v1/tokens", { method: "GET" })) as { tokens: TokenInfo[] }).tokens,
    revoke: async (id) => (await call(`/v1/tokens/${encodeURIComponent(id)}/revoke`, { method: "POST" })) as TokenInfo,
  };
}
