// meshctl against a real Consul agent: apply writes one document per resource with check-and-set, diff and
// --dry-run write nothing, the documents read back into the same config, and exit codes say what went wrong.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { ROOT } from "./support/mesh.ts";
import { startConsul, type ConsulAgent } from "../deploy/lib/consul-agent.ts";
import { BUN } from "../deploy/lib/process-group.ts";
import { assembleKvDocuments } from "../shared/config/kv-documents.ts";
import { parseMeshConfig } from "../shared/config/parse.ts";

let consul: ConsulAgent;
const demo = join(ROOT, "deploy/examples/demo.yaml");
const fiftyFifty = join(ROOT, "deploy/examples/echo-50-50.yaml");

async function meshctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), ...args, "--consul", consul.httpAddr], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

async function kvList(): Promise<Array<{ key: string; value: string }>> {
  const res = await fetch(`${consul.httpAddr}/v1/kv/mesh/?recurse=true`);
  if (res.status === 404) return [];
  return ((await res.json()) as Array<{ Key: string; Value: string }>).map((e) => ({ key: e.Key, value: Buffer.from(e.Value, "base64").toString() }));
}

beforeAll(async () => {
  consul = await startConsul();
}, 120_000);

afterAll(async () => {
  await consul?.stop();
}, 30_000);

test("apply --dry-run writes nothing; apply writes each resource; the documents read back into the same config", async () => {
  const dry = await meshctl("apply", "-f", demo, "--dry-run");
  expect(dry.code).toBe(0);
  expect(dry.out).toContain("+ mesh/routes/echo-split");
  expect(await kvList()).toEqual([]);

  const applied = await meshctl("apply", "-f", demo, "--json");
  expect(applied.code).toBe(0);
  const keys = (JSON.parse(applied.out) as { written: string[] }).written.sort();
  expect(keys).toEqual(["mesh/gateway/gateway", "mesh/routes/echo-split", "mesh/services/echo", "mesh/services/web", "mesh/settings"]);

  const assembled = await assembleKvDocuments(await kvList(), "mesh/", new Map());
  expect(assembled.issues).toEqual([]);
  const back = await parseMeshConfig(JSON.stringify(assembled.config), "kv");
  const original = await parseMeshConfig(await Bun.file(demo).text(), demo);
  expect(back.ok && original.ok && JSON.stringify(back.config.routes) === JSON.stringify(original.config.routes)).toBe(true);

  const again = await meshctl("diff", "-f", demo);
  expect(again.out).toContain("0 to write, 5 unchanged");
}, 30_000);

test("applying the 50/50 file changes only what differs; get and delete work", async () => {
  const diff = await meshctl("diff", "-f", fiftyFifty, "--json");
  const changed = (JSON.parse(diff.out) as { changes: Array<{ key: string; action: string }> }).changes.filter((c) => c.action !== "unchanged").map((c) => c.key);
  expect(changed).toContain("mesh/routes/echo-split");
  expect((await meshctl("apply", "-f", fiftyFifty)).code).toBe(0);
  const got = await meshctl("get", "routes", "echo-split");
  expect(got.out).toContain("weight: 50");
  expect((await meshctl("delete", "routes", "echo-split")).code).toBe(0);
  expect((await kvList()).some((e) => e.key === "mesh/routes/echo-split")).toBe(false);
  // Deleting it again: nothing there, so it says so and exits 1 instead of claiming "deleted".
  const again = await meshctl("delete", "routes", "echo-split");
  expect(again.code).toBe(1);
  expect(again.err).toContain("mesh/routes/echo-split: not found");
}, 30_000);

test("exit codes: invalid file 1 with file:path: reason, oversized document 1, Consul unreachable 3", async () => {
  const dir = mkdtempSync(join(tmpdir(), "meshctl-"));
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "routes:\n  - name: x\n    match: { path: { regex: '(' } }\n    action: { directResponse: { status: 200 } }\n");
  const invalid = await meshctl("apply", "-f", bad);
  expect(invalid.code).toBe(1);
  expect(invalid.err).toContain(`${bad}: routes[0].match.path.regex: invalid regular expression`);

  const big = join(dir, "big.yaml");
  writeFileSync(big, `services:\n  huge:\n    instances:\n${Array.from({ length: 9000 }, (_, i) => `      - { id: instance-number-${i}-with-a-long-name, address: 127.0.0.1, port: ${1 + (i % 60000)}, tags: [a, b, c] }`).join("\n")}\n`);
  const oversized = await meshctl("apply", "-f", big);
  expect(oversized.code).toBe(1);
  expect(oversized.err).toContain("512 KB");

  const p = Bun.spawn([BUN, join(ROOT, "cli/meshctl.ts"), "apply", "-f", demo, "--consul", "http://127.0.0.1:1"], { stdout: "pipe", stderr: "pipe" });
  expect(await p.exited).toBe(3);
}, 30_000);

test("authz check against the live config in KV: an authorization document applied with meshctl decides the verdict", async () => {
  const dir = mkdtempSync(join(tmpdir(), "meshctl-authz-"));
  const file = join(dir, "authz.yaml");
  writeFileSync(file, `
services: { echo: {}, web: {} }
authorization:
  echo:
    default: deny
    rules:
      - { name: web-reads, action: allow, from: [web], methods: [GET] }
      - { name: no-admin, action: deny, from: ["*"], paths: [{ prefix: /admin }] }
`);
  const prefix = "authz-e2e/";
  expect((await meshctl("apply", "-f", file, "--prefix", prefix)).code).toBe(0);
  // --kv-prefix is the daemons' spelling; --prefix stays as its alias.
  expect((await meshctl("get", "authorization", "echo", "--kv-prefix", prefix)).code).toBe(0);
  // status with a prefix lists only members reading it: none here.
  const status = await meshctl("status", "--kv-prefix", prefix);
  expect(status.code).toBe(0);
  expect(status.out).toContain(`reading ${prefix}`);
  expect((await kvListPrefix(prefix)).some((e) => e.key === `${prefix}authorization/echo`)).toBe(true);
  const allow = await meshctl("authz", "check", "--from", "web", "--to", "echo", "GET", "/items", "--prefix", prefix);
  expect(allow.code).toBe(0);
  expect(allow.out).toContain("ALLOW");
  expect(allow.out).toContain('"web-reads"');
  const deny = await meshctl("authz", "check", "--from", "web", "--to", "echo", "GET", "/admin/x", "--prefix", prefix, "--json");
  expect(deny.code).toBe(1);
  expect(JSON.parse(deny.out)).toMatchObject({ allowed: false, rule: "no-admin" });
  const bad = await meshctl("authz", "check", "--to", "ghost", "GET", "/", "--prefix", prefix);
  expect(bad.code).toBe(1);
  expect(bad.err + bad.out).toContain("unknown service");
});

async function kvListPrefix(prefix: string): Promise<Array<{ key: string }>> {
  const res = await fetch(`${consul.httpAddr}/v1/kv/${prefix}?recurse=true`);
  if (res.status === 404) return [];
  return ((await res.json()) as Array<{ Key: string }>).map((e) => ({ key: e.Key }));
}
