// Finds the bench's binaries (wrk, and the peers nginx and consul) through the repo's provision scripts, which print the path as the last line.
// A script that fails means "not on this machine": the scenario is skipped with the script's own one-line reason.
import { join } from "node:path";
import { ScenarioSkipped } from "./skip.ts";

/** deploy/... scripts, relative to the repo. Each finds the binary (env var, PATH, cache) or fetches it from Debian. */
export const PROVISION_SCRIPTS = {
  nginx: "deploy/bench/provision-nginx.sh",
  consul: "deploy/consul/provision.sh",
  wrk: "deploy/bench/provision-wrk.sh",
} as const;

/** The path a provision script printed last, or the reason it gave (its last stderr line) when it failed. */
export function provisionOutcome(code: number, stdout: string, stderr: string): { path: string } | { reason: string } {
  const path = stdout.trim().split("\n").pop()?.trim() ?? "";
  if (code === 0 && path !== "") return { path };
  const last = stderr.trim().split("\n").filter((l) => l.trim() !== "").pop();
  return { reason: last ?? `exited ${code} without a path` };
}

const found = new Map<string, Promise<string>>();

/** Runs the script once per runner (fetching may take seconds); throws ScenarioSkipped when it finds nothing. */
export function provisionBinary(repo: string, what: keyof typeof PROVISION_SCRIPTS): Promise<string> {
  let p = found.get(what);
  if (p === undefined) {
    p = (async () => {
      const proc = Bun.spawn(["bash", join(repo, PROVISION_SCRIPTS[what])], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      const r = provisionOutcome(code, out, err);
      if ("reason" in r) throw new ScenarioSkipped(`no ${what} binary (${r.reason})`);
      return r.path;
    })();
    found.set(what, p);
  }
  return p;
}
