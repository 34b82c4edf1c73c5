// Join tokens: only a hash is kept; each refusal (unknown, revoked, expired, used up, wrong service) is told apart;
// a use is taken atomically and saved before consume returns; revoking and listing work on ids, never secrets.
import { describe, expect, test } from "bun:test";
import { createTokenStore, JoinTokenError, type TokenRecord } from "./join-tokens.ts";

const ECHO = "spiffe://mesh.local/ns/default/svc/echo";
const WEB = "spiffe://mesh.local/ns/default/svc/web";

function store(now = () => Date.now()) {
  const saved: TokenRecord[][] = [];
  const s = createTokenStore({ records: [], save: async (r) => void saved.push(r), now });
  return { s, saved };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof JoinTokenError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return "accepted";
}

describe("join tokens", () => {
  test("a minted token joins its identity once; the store keeps only its SHA-256", async () => {
    const { s, saved } = store();
    const { token, record } = await s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 1 });
    expect(token).toMatch(/^mjt1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(record.usesLeft).toBe(1);
    const persisted = JSON.stringify(saved.at(-1));
    expect(persisted).not.toContain(token.split(".")[2]!);
    const digest = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token))), (b) => b.toString(16).padStart(2, "0")).join("");
    expect(saved.at(-1)![0]!.sha256).toBe(digest);
    await s.check(token, ECHO);
    expect((await s.consume(token, ECHO)).usesLeft).toBe(0);
    expect(saved.at(-1)![0]!.usesLeft).toBe(0);
    expect(await refusal(s.consume(token, ECHO))).toStartWith("token-used-up:");
  });

  test("each refusal says which rule failed", async () => {
    let t = Date.now();
    const { s } = store(() => t);
    const expired = await s.mint({ spiffeId: ECHO, ttlMs: 1000, uses: 1 });
    const revoked = await s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 1 });
    const good = await s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 3 });
    await s.revoke(revoked.record.id);
    t += 2000;
    expect(await refusal(s.check(expired.token, ECHO))).toBe(`token-expired: join token ${expired.record.id} expired at ${expired.record.expiresAt}`);
    expect(await refusal(s.check(revoked.token, ECHO))).toBe(`token-revoked: join token ${revoked.record.id} was revoked`);
    expect(await refusal(s.check(good.token, WEB))).toBe(`token-wrong-service: join token ${good.record.id} is for ${ECHO}, not ${WEB}`);
    expect(await refusal(s.check("nonsense", ECHO))).toStartWith("token-unknown:");
    // Right id, wrong secret: unknown, not a hint that the id exists.
    const forged = `${good.token.slice(0, good.token.lastIndexOf(".") + 1)}${"A".repeat(43)}`;
    expect(await refusal(s.check(forged, ECHO))).toStartWith("token-unknown:");
    expect(await refusal(s.check(good.token, ECHO))).toBe("accepted");
  });

  test("two concurrent joins on a one-use token: exactly one gets it", async () => {
    const { s } = store();
    const { token } = await s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 1 });
    const results = await Promise.all([refusal(s.consume(token, ECHO)), refusal(s.consume(token, ECHO))]);
    expect(results.sort()).toEqual(["accepted", expect.stringMatching(/^token-used-up/)]);
  });

  test("records survive a reload; list shows ids and state, revoke works by id", async () => {
    const { s, saved } = store();
    const { token, record } = await s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 2 });
    await s.consume(token, ECHO);
    const again = createTokenStore({ records: saved.at(-1)!, save: async () => {} });
    expect(again.list().map((r) => [r.id, r.usesLeft, r.revoked])).toEqual([[record.id, 1, false]]);
    expect(await again.revoke(record.id)).toMatchObject({ revoked: true });
    expect(await again.revoke("0000000000000000")).toBeUndefined();
    expect(await refusal(again.consume(token, ECHO))).toStartWith("token-revoked:");
  });

  test("mint refuses nonsense counts and lifetimes", async () => {
    const { s } = store();
    await expect(s.mint({ spiffeId: ECHO, ttlMs: 60_000, uses: 0 })).rejects.toThrow("uses");
    await expect(s.mint({ spiffeId: ECHO, ttlMs: 10, uses: 1 })).rejects.toThrow("ttl");
  });
});
