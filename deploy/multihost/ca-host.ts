// The CA on host1, run the way docs/vm-install.md says: `ca init` once, `ca serve --address <host1>`, join tokens
// and root rotation through meshctl inside host1's namespace (its admin API listens on host1's 127.0.0.1 only).
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { HostProcess, HostProcesses } from "./host-processes.ts";
import type { Network } from "./netns.ts";
import { nsRun } from "./ns-command.ts";

const ROOT = resolve(import.meta.dir, "../..");
export const CA_PORT = 8200;
export const CA_ADMIN_PORT = 8201;

export type CaRootStatus = { fingerprint: string; role: "signing" | "next" | "retiring"; leavesValidUntil?: string };
export type CaStatus = { phase: "idle" | "propagating" | "switched"; signingRoot: string; roots: CaRootStatus[]; bundleIndex: number };

export type CaHost = {
  stateDir: string;
  /** https://<host1>:8200, what members are given as --ca. */
  url: string;
  /** The root fingerprint `ca init` printed: what every member pins. */
  fingerprint: string;
  process: HostProcess;
  /** SIGTERM, wait for the exit, serve again from the same state directory and ports. */
  restart(): Promise<{ downMs: number }>;
  /** A single-use join token for `service`, written to a 0600 file; returns the file's path. */
  tokenFile(service: string, name: string): Promise<string>;
  /** `ca fingerprint`: the root that signs now, what a member joining from now on pins. */
  currentFingerprint(): Promise<string>;
  /** `meshctl ARGS` inside host1's namespace (add --ca-state for token and ca commands, --consul for KV ones). */
  meshctl(args: string[]): Promise<{ code: number; out: string; err: string }>;
};

export async function startCaHost(net: Network, procs: HostProcesses, dir: string, bun: string): Promise<CaHost> {
  const h1 = net.hosts.host1;
  const stateDir = join(dir, "ca");
  const init = await nsRun(h1.ns, [bun, join(ROOT, "ca/main.ts"), "init", "--state", stateDir, "--trust-domain", "mesh.local"]);
  const fingerprint = init.out.trim();
  if (init.code !== 0 || !fingerprint.startsWith("sha256:")) throw new Error(`ca init failed (${init.code}): ${init.err}`);
  const serve = () => procs.start("ca", h1.ns, [bun, join(ROOT, "ca/main.ts"), "serve", "--state", stateDir, "--address", h1.address,
    "--port", String(CA_PORT), "--admin-port", String(CA_ADMIN_PORT)]);
  const meshctl = (args: string[]) => nsRun(h1.ns, [bun, join(ROOT, "cli/meshctl.ts"), ...args]);
  const ca: CaHost = {
    stateDir,
    url: `https://${h1.address}:${CA_PORT}`,
    fingerprint,
    process: await serve(),
    async restart() {
      await procs.stop(ca.process);
      const down = performance.now();
      ca.process = await serve();
      return { downMs: performance.now() - down };
    },
    async tokenFile(service, name) {
      const r = await meshctl(["token", "create", "--service", service, "--ttl", "10m", "--ca-state", stateDir]);
      if (r.code !== 0 || r.out.trim() === "") throw new Error(`meshctl token create --service ${service} failed (${r.code}): ${r.err}`);
      const file = join(dir, "tokens", `${name}.token`);
      writeFileSync(file, `${r.out.trim()}\n`, { mode: 0o600 });
      return file;
    },
    async currentFingerprint() {
      const r = await nsRun(h1.ns, [bun, join(ROOT, "ca/main.ts"), "fingerprint", "--state", stateDir]);
      const fp = r.out.trim();
      if (r.code !== 0 || !fp.startsWith("sha256:")) throw new Error(`ca fingerprint failed (${r.code}): ${r.err}`);
      return fp;
    },
    meshctl,
  };
  return ca;
}

/** `meshctl ca status --json`, or why it is unavailable (the command is newer than some checkouts). */
export async function caStatus(ca: CaHost): Promise<CaStatus | { unavailable: string }> {
  const r = await ca.meshctl(["ca", "status", "--json", "--ca-state", ca.stateDir]);
  try {
    const j = JSON.parse(r.out) as CaStatus & { error?: string };
    if (r.code === 0 && typeof j.phase === "string") return j;
    return { unavailable: j.error ?? `exit ${r.code}` };
  } catch {
    return { unavailable: `exit ${r.code}: ${(r.out + r.err).trim().slice(0, 200)}` };
  }
}
