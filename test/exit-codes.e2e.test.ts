// Exit codes of a daemon that cannot start (docs/cli.md): a CA that does not answer at the first join is 3 (an
// unreachable dependency, not a misconfiguration), within seconds and before any listener opens.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../deploy/lib/ports.ts";

const ROOT = resolve(import.meta.dir, "..");
const tmp = mkdtempSync(join(tmpdir(), "mesh-exit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("a sidecar whose CA does not answer exits 3 with error: unreachable", async () => {
  const config = join(tmp, "mesh.yaml");
  writeFileSync(config, "trustDomain: mesh.local\nservices:\n  echo:\n    instances: [{ id: e1, address: 127.0.0.1, port: 9 }]\n");
  const closed = await freePort(); // nothing listens there
  const p = Bun.spawn([process.execPath, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", "echo", "--app-port", "9",
    "--inbound-port", String(await freePort()), "--outbound-port", String(await freePort()), "--admin-port", String(await freePort()),
    "--ca", `https://127.0.0.1:${closed}`, "--ca-fingerprint", `sha256:${"ab".repeat(32)}`, "--join-token", "mjt1.x", "--state-dir", join(tmp, "state")],
  { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  const code = await p.exited;
  clearTimeout(timer);
  const out = await new Response(p.stdout).text();
  expect(code).toBe(3);
  expect(out).toContain('"error":"unreachable"');
}, 30_000);
