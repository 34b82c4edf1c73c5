// Join tokens: one-time (or N-time) secrets an operator hands a new member, each scoped to one SPIFFE id. The CA keeps
// only a SHA-256 of each token with its expiry, uses left and revoked flag; persisting the records is the caller's job.

export type TokenRecord = {
  /** Public half of the token: named in lists, logs and revoke; never enough to join. */
  id: string;
  /** SHA-256 (hex) of the whole token text. */
  sha256: string;
  spiffeId: string;
  createdAt: string;
  expiresAt: string;
  usesLeft: number;
  revoked: boolean;
};

export type TokenRefusal = "token-unknown" | "token-expired" | "token-used-up" | "token-revoked" | "token-wrong-service";

/** A token the CA will not honour, with the reason in `code` (the CA's 403 `error`) and words for people in `message`. */
export class JoinTokenError extends Error {
  constructor(readonly code: TokenRefusal, message: string) {
    super(message);
    this.name = "JoinTokenError";
  }
}

export type TokenStore = {
  mint(o: { spiffeId: string; ttlMs: number; uses: number }): Promise<{ token: string; record: TokenRecord }>;
  /** Throws JoinTokenError unless `token` may join as `spiffeId` now; changes nothing. */
  check(token: string, spiffeId: string): Promise<TokenRecord>;
  /** check() again and take one use, saved before it returns (a crash never gives a use back). */
  consume(token: string, spiffeId: string): Promise<TokenRecord>;
  revoke(id: string): Promise<TokenRecord | undefined>;
  list(): TokenRecord[];
};

const TOKEN_RE = /^mjt1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;
export const MAX_TOKEN_USES = 10_000;
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3_600_000;
// Records that expired a week ago go: "expired" turns into "unknown" for them, and the file stays small.
const KEEP_EXPIRED_MS = 7 * 24 * 3_600_000;

const hex = (b: ArrayBuffer | Uint8Array): string => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const base64url = (b: Uint8Array): string => btoa(String.fromCharCode(...b)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

async function digest(token: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
}

/** Same-length hex strings compared without an early exit. */
function equalHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function createTokenStore(o: { records: TokenRecord[]; save: (records: TokenRecord[]) => Promise<void>; now?: () => number }): TokenStore {
  const now = o.now ?? Date.now;
  const byId = new Map(o.records.map((r) => [r.id, { ...r }]));
  // Writes one after another, each with the state at its time: the file never goes back to an older state.
  let saving: Promise<void> = Promise.resolve();
  const persist = (): Promise<void> => {
    const cutoff = now() - KEEP_EXPIRED_MS;
    for (const [id, r] of byId) if (Date.parse(r.expiresAt) < cutoff) byId.delete(id);
    const snapshot = [...byId.values()].map((r) => ({ ...r }));
    saving = saving.catch(() => undefined).then(() => o.save(snapshot));
    return saving;
  };
  // The hash is computed first (async); the verdict and taking a use then run synchronously, as one atomic step.
  const verdict = (token: string, hash: string, spiffeId: string): TokenRecord => {
    const m = TOKEN_RE.exec(token.trim());
    const r = m === null ? undefined : byId.get(m[1]!);
    if (r === undefined || !equalHex(r.sha256, hash)) throw new JoinTokenError("token-unknown", "join token unknown to this CA (mistyped, from another CA, or removed a week after it expired)");
    if (r.revoked) throw new JoinTokenError("token-revoked", `join token ${r.id} was revoked`);
    if (Date.parse(r.expiresAt) <= now()) throw new JoinTokenError("token-expired", `join token ${r.id} expired at ${r.expiresAt}`);
    if (r.usesLeft <= 0) throw new JoinTokenError("token-used-up", `join token ${r.id} has no uses left`);
    if (r.spiffeId !== spiffeId) throw new JoinTokenError("token-wrong-service", `join token ${r.id} is for ${r.spiffeId}, not ${spiffeId}`);
    return r;
  };

  return {
    async mint({ spiffeId, ttlMs, uses }) {
      if (!Number.isInteger(uses) || uses < 1 || uses > MAX_TOKEN_USES) throw new Error(`uses must be an integer from 1 to ${MAX_TOKEN_USES}`);
      if (!Number.isInteger(ttlMs) || ttlMs < 1000 || ttlMs > MAX_TOKEN_TTL_MS) throw new Error("ttl must be between 1s and 365 days");
      const id = hex(crypto.getRandomValues(new Uint8Array(8)));
      const token = `mjt1.${id}.${base64url(crypto.getRandomValues(new Uint8Array(32)))}`;
      const t = now();
      const record: TokenRecord = { id, sha256: await digest(token), spiffeId, createdAt: new Date(t).toISOString(), expiresAt: new Date(t + ttlMs).toISOString(), usesLeft: uses, revoked: false };
      byId.set(id, record);
      await persist();
      return { token, record: { ...record } };
    },
    async check(token, spiffeId) {
      return { ...verdict(token, await digest(token.trim()), spiffeId) };
    },
    async consume(token, spiffeId) {
      const r = verdict(token, await digest(token.trim()), spiffeId);
      r.usesLeft -= 1;
      await persist();
      return { ...r };
    },
    async revoke(id) {
      const r = byId.get(id);
      if (r === undefined) return undefined;
      r.revoked = true;
      await persist();
      return { ...r };
    },
    list: () => [...byId.values()].map((r) => ({ ...r })).sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
  };
}
