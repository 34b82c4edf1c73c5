// A CA for the demo, the test harness and the bench, started the way an operator would: `ca init` in a state
// directory, `ca serve`, then one join token per member through the admin API. Callers spawn `serve` themselves.
import { join, resolve } from "node:path";
import { caAdminFromState, type CaAdmin } from "../../cli/ca-admin-client.ts";

const ROOT = resolve(import.meta.dir, "../..");

/** `ca init` in `stateDir`; returns the root's fingerprint (the one line it prints on stdout). */
export function initCa(bun: string, stateDir: string, trustDomain: string): string {
  const p = Bun.spawnSync([bun, join(ROOT, "ca/main.ts"), "init", "--state", stateDir, "--trust-domain", trustDomain], { stdout: "pipe", stderr: "pipe" });
  const out = p.stdout.toString().trim();
  if (p.exitCode !== 0 || !out.startsWith("sha256:")) throw new Error(`ca init failed (${p.exitCode}): ${p.stderr.toString()}`);
  return out;
}

/** The command line of `ca serve` on loopback; port 0 = any free port (the ready line says which). */
export function caServeCommand(bun: string, stateDir: string, opts: { port?: number; adminPort?: number } = {}): string[] {
  return [bun, join(ROOT, "ca/main.ts"), "serve", "--state", stateDir, "--address", "127.0.0.1", "--port", String(opts.port ?? 0), "--admin-port", String(opts.adminPort ?? 0)];
}

export type DevCa = {
  readonly url: string;
  readonly fingerprint: string;
  readonly stateDir: string;
  readonly admin: CaAdmin;
  /** Flags that make a member join: a fresh single-use token for `service` and its own state directory. */
  memberArgs(service: string, memberStateDir: string, opts?: { namespace?: string }): Promise<string[]>;
};

/** The running CA from its ready line (port and admin port) and the fingerprint `ca init` printed. */
export function devCa(stateDir: string, fingerprint: string, ready: Record<string, unknown>): DevCa {
  if (typeof ready.port !== "number" || typeof ready.adminPort !== "number") throw new Error(`ca: ready line without ports: ${JSON.stringify(ready)}`);
  const url = `https://127.0.0.1:${ready.port}`;
  const admin = caAdminFromState(stateDir, `http://127.0.0.1:${ready.adminPort}`);
  return {
    url,
    fingerprint,
    stateDir,
    admin,
    async memberArgs(service, memberStateDir, opts = {}) {
      const t = await admin.create({ service, ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }), ttlSeconds: 600, uses: 1 });
      return ["--ca", url, "--ca-fingerprint", fingerprint, "--join-token", t.token, "--state-dir", memberStateDir];
    },
  };
}
