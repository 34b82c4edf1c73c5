// Neither the sidecar nor the gateway starts when NODE_TLS_REJECT_UNAUTHORIZED=0 is set (Bun issue #35240:
// it switches certificate checks off); each exits non-zero with a message saying why.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { TestMesh, ROOT } from "./support/mesh.ts";
import { BUN } from "../deploy/lib/process-group.ts";

test("sidecar and gateway refuse to start with NODE_TLS_REJECT_UNAUTHORIZED=0", async () => {
  const mesh = new TestMesh();
  const config = mesh.writeConfig({
    services: { svc: { instances: [] } },
    gateway: { name: "gateway", listeners: [{ name: "http", address: "127.0.0.1", port: 0 }], routes: [] },
  });
  // Well-formed join flags, so the refusal comes from the environment check (before any CA is contacted).
  const joinFlags = ["--ca", "https://127.0.0.1:9", "--ca-fingerprint", `sha256:${"0".repeat(64)}`, "--join-token", "unused"];
  const runs = [
    [BUN, join(ROOT, "sidecar/main.ts"), "--config", config, "--service", "svc", "--app-port", "1", "--inbound-port", "0", "--outbound-port", "0", "--admin-port", "0", ...joinFlags],
    [BUN, join(ROOT, "gateway/main.ts"), "--config", config, ...joinFlags, "--admin-port", "0"],
  ];
  for (const cmd of runs) {
    const p = Bun.spawn(cmd, { env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: "0" }, stdout: "pipe", stderr: "pipe" });
    const code = await p.exited;
    const out = (await new Response(p.stderr).text()) + (await new Response(p.stdout).text());
    expect(code).not.toBe(0);
    expect(out).toContain("NODE_TLS_REJECT_UNAUTHORIZED=0");
  }
}, 30_000);
