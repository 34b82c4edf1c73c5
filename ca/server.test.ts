// The CA as a real process (`ca init`, `ca serve`) over real sockets: state files 0600 in a 0700 directory, HTTPS with
// a certificate from its own chain, joins with tokens (each refusal named), renewals over mTLS only, the admin API.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ProcessGroup, BUN } from "../deploy/lib/process-group.ts";
import { caServeCommand, devCa, initCa, type DevCa } from "../deploy/lib/dev-ca.ts";
import { caFetch } from "../runtime/bun/ca-fetch.ts";
import { connectCa } from "../member/ca-connection.ts";
import { CaRefusedError, caServiceId } from "../shared/pki/ca-client.ts";
import { createCertificateAuthority } from "../shared/pki/ca.ts";
import { issueWorkloadCredentials, leafInfo, newWorkloadKey } from "../shared/pki/workload.ts";
import { splitCertificatePem } from "../shared/pki/pem.ts";

const TD = "mesh.local";
const ECHO = `spiffe://${TD}/ns/default/svc/echo`;
const WEB = `spiffe://${TD}/ns/default/svc/web`;
const group = new ProcessGroup();
const dir = join(mkdtempSync(join(tmpdir(), "ca-test-")), "state");
let ca: DevCa;
let fingerprint = "";

const conn = () => connectCa({ caFetch, url: ca.url, fingerprint, trustDomain: TD });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    if (err instanceof CaRefusedError) return `${err.status} ${err.code}`;
    throw err;
  }
}

/** Joins as `spiffeId` with `token` through the pinned client, as a member would. */
async function join_(token: string, spiffeId: string) {
  const c = conn();
  const bundle = await c.pinnedTrustBundle();
  const key = await newWorkloadKey(spiffeId);
  const leaf = await c.client(bundle).join({ token, csrPem: key.csrPem, spiffeId });
  return { ...leaf, keyPem: key.keyPem, bundle };
}

beforeAll(async () => {
  fingerprint = initCa(BUN, dir, TD);
  const started = await group.spawn("ca", caServeCommand(BUN, dir));
  ca = devCa(dir, fingerprint, started.ready);
}, 30_000);

afterAll(async () => {
  await group.stopAll(10_000);
});

describe("ca init", () => {
  test("the state directory is 0700 and every file in it 0600; the printed fingerprint is the root's", () => {
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const files = readdirSync(dir).sort();
    expect(files).toEqual(["admin-secret", "admin.json", "ca.json", "intermediate.key", "intermediate.pem", "root.key", "root.pem", "roots.json", "tokens.json"]);
    for (const f of files) expect([f, statSync(join(dir, f)).mode & 0o777]).toEqual([f, 0o600]);
    expect(readFileSync(join(dir, "root.key"), "utf8")).toStartWith("-----BEGIN PRIVATE KEY-----");
    const root = new X509Certificate(readFileSync(join(dir, "root.pem")));
    expect(`sha256:${root.fingerprint256.replaceAll(":", "").toLowerCase()}`).toBe(fingerprint);
  });

  test("a second init refuses to overwrite the CA", () => {
    const p = Bun.spawnSync([BUN, join(import.meta.dir, "main.ts"), "init", "--state", dir], { stderr: "pipe" });
    expect(p.exitCode).toBe(1);
    expect(p.stderr.toString()).toContain("refusing to overwrite");
  });
});

describe("ca serve", () => {
  test("HTTPS with a serverAuth certificate from its own chain, naming the CA service", async () => {
    const seen: string[] = [];
    const res = await fetch(`${ca.url}/ready`, {
      tls: { ca: readFileSync(join(dir, "root.pem"), "utf8"), checkServerIdentity: (_h: string, c: { subjectaltname?: string }) => void seen.push(c.subjectaltname ?? "") },
    } as RequestInit);
    expect(res.status).toBe(200);
    expect(seen[0]).toContain(`URI:${caServiceId(TD)}`);
    expect(seen[0]).toContain("IP Address:127.0.0.1");
    await expect(fetch(`${ca.url.replace("https:", "http:")}/ready`)).rejects.toThrow();
  });

  test("join with a valid token: a leaf for exactly that identity, chained to the pinned root", async () => {
    const t = await ca.admin.create({ service: "echo" });
    const leaf = await join_(t.token, ECHO);
    expect(leaf.tokenId).toBe(t.id);
    expect(leafInfo(leaf.certChainPem).uris).toEqual([ECHO]);
    const [l, i] = splitCertificatePem(leaf.certChainPem).map((p) => new X509Certificate(p));
    expect(l!.verify(i!.publicKey) && i!.verify(new X509Certificate(leaf.trustBundlePem).publicKey)).toBe(true);
    expect((await ca.admin.list()).find((r) => r.id === t.id)).toMatchObject({ usesLeft: 0, state: "used-up" });
  });

  test("each refused token gets a 403 naming why: unknown, used up, revoked, expired, wrong service", async () => {
    const used = await ca.admin.create({ service: "echo" });
    await join_(used.token, ECHO);
    const revoked = await ca.admin.create({ service: "echo" });
    await ca.admin.revoke(revoked.id);
    const expiring = await ca.admin.create({ service: "echo", ttlSeconds: 1 });
    const forWeb = await ca.admin.create({ service: "web" });
    await Bun.sleep(1100);
    expect(await code(join_("mjt1.0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", ECHO))).toBe("403 token-unknown");
    expect(await code(join_(used.token, ECHO))).toBe("403 token-used-up");
    expect(await code(join_(revoked.token, ECHO))).toBe("403 token-revoked");
    expect(await code(join_(expiring.token, ECHO))).toBe("403 token-expired");
    expect(await code(join_(forWeb.token, ECHO))).toBe("403 token-wrong-service");
    // The body is { error, message } with a sentence for people.
    const raw = await caFetch(`${ca.url}/v1/join`, {
      method: "POST", timeoutMs: 5000, tls: { verify: "pinned", rootsPem: readFileSync(join(dir, "root.pem"), "utf8"), serverId: caServiceId(TD) },
      body: JSON.stringify({ token: forWeb.token, csrPem: (await newWorkloadKey(ECHO)).csrPem, spiffeId: ECHO }),
    });
    expect(raw.status).toBe(403);
    expect(JSON.parse(raw.text)).toEqual({ error: "token-wrong-service", message: `join token ${forWeb.id} is for ${WEB}, not ${ECHO}` });
    // Refusals cost no use: the web token still joins web.
    expect(await code(join_(forWeb.token, WEB))).toBe("ok");
  });

  test("renewal is authenticated by the current leaf over mTLS, with no token, for the same identity only", async () => {
    const t = await ca.admin.create({ service: "echo" });
    const first = await join_(t.token, ECHO);
    const c = conn();
    const mine = { keyPem: first.keyPem, certChainPem: first.certChainPem };
    const next = await newWorkloadKey(ECHO);
    const renewed = await c.client(first.bundle, mine).renew({ csrPem: next.csrPem, spiffeId: ECHO, ttlMs: 120_000 });
    expect(leafInfo(renewed.certChainPem).uris).toEqual([ECHO]);
    expect(renewed.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(120_000);
    // Without a client certificate, for another identity, or with a leaf from another CA: refused.
    expect(await code(c.client(first.bundle).renew({ csrPem: next.csrPem, spiffeId: ECHO }))).toBe("401 client-certificate-required");
    expect(await code(c.client(first.bundle, mine).renew({ csrPem: (await newWorkloadKey(WEB)).csrPem, spiffeId: WEB }))).toBe("403 identity-mismatch");
    const foreign = await issueWorkloadCredentials(await createCertificateAuthority({ trustDomain: TD }), ECHO);
    expect(await code(c.client(first.bundle, foreign).renew({ csrPem: next.csrPem, spiffeId: ECHO }))).toBe("401 client-certificate-required");
  });

  test("a wrong pinned fingerprint is refused before any token is sent", async () => {
    const wrong = connectCa({ caFetch, url: ca.url, fingerprint: `sha256:${"0".repeat(64)}`, trustDomain: TD });
    await expect(wrong.pinnedTrustBundle()).rejects.toThrow(`serves root ${fingerprint}, not the pinned sha256:${"0".repeat(64)}`);
  });

  test("the admin API wants the admin secret and listens on 127.0.0.1 only", async () => {
    const adminUrl = JSON.parse(readFileSync(join(dir, "admin.json"), "utf8")).url as string;
    expect(adminUrl).toStartWith("http://127.0.0.1:");
    const res = await fetch(`${adminUrl}/v1/tokens`, { method: "POST", body: JSON.stringify({ service: "echo" }) });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("admin-secret-required");
    const bad = await fetch(`${adminUrl}/v1/tokens`, { headers: { authorization: "Bearer nope" } });
    expect(bad.status).toBe(401);
    expect(readFileSync(join(dir, "tokens.json"), "utf8")).not.toContain("mjt1.");
  });
});

describe("meshctl token (on the CA host, through the admin API)", () => {
  const meshctl = (...args: string[]) => {
    const p = Bun.spawnSync([BUN, join(import.meta.dir, "../cli/meshctl.ts"), "token", ...args, "--ca-state", dir], { stdout: "pipe", stderr: "pipe" });
    return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
  };

  test("create prints only the token on stdout; list shows ids and state, never secrets; revoke refuses it from then on", async () => {
    const created = meshctl("create", "--service", "echo", "--ttl", "2h", "--uses", "3");
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(token).toMatch(/^mjt1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}$/);
    const id = token.split(".")[1]!;
    expect(created.err).toContain(`join token ${id} for ${ECHO}: 3 use(s)`);
    const list = meshctl("list", "--json");
    const row = (JSON.parse(list.out) as Array<{ id: string; state: string; usesLeft: number; expiresAt: string }>).find((r) => r.id === id)!;
    expect(row).toMatchObject({ state: "valid", usesLeft: 3 });
    expect(Date.parse(row.expiresAt) - Date.now()).toBeGreaterThan(7_100_000);
    expect(list.out).not.toContain(token.split(".")[2]!);
    expect(meshctl("revoke", id).out).toContain(`revoked ${id} (${ECHO})`);
    expect(meshctl("list").out).toContain(`${id}  revoked`);
    expect(await code(join_(token, ECHO))).toBe("403 token-revoked");
  });

  test("clear errors: a bad service name, a missing state directory", () => {
    const bad = meshctl("create", "--service", "Not_A_Name");
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("invalid SPIFFE service name");
    const p = Bun.spawnSync([BUN, join(import.meta.dir, "../cli/meshctl.ts"), "token", "list", "--ca-state", join(dir, "nope")], { stderr: "pipe" });
    expect(p.exitCode).toBe(1);
    expect(p.stderr.toString()).toContain("admin-secret: missing");
  });
});
