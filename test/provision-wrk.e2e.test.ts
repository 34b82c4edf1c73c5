// deploy/bench/provision-wrk.sh against Debian's real mirror: a machine with only Node and npm has no wrk, so the
// bench fetches one (with libluajit and libssl3) into the repo's cache, runs it from there, and finds it there next time.
import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runWrk } from "../bench/lib/wrk.ts";

const ROOT = join(import.meta.dir, "..");
// A repo of the script and its helper alone, so the fetch fills this folder's .cache and not the checkout's.
const repo = mkdtempSync(join(tmpdir(), "provision-wrk-"));
for (const f of ["deploy/bench/provision-wrk.sh", "deploy/lib/debian-fetch.sh"]) {
  mkdirSync(join(repo, f, ".."), { recursive: true });
  cpSync(join(ROOT, f), join(repo, f));
}
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("ok") });

afterAll(() => {
  server.stop(true);
  rmSync(repo, { recursive: true, force: true });
});

async function provision(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const p = Bun.spawn(["bash", join(repo, "deploy/bench/provision-wrk.sh"), ...args], { env: { ...process.env, WRK_BIN: "", ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, out, err };
}

test("--fetch gets Debian's wrk into the cache as a wrapper that runs with its own libraries", async () => {
  const first = await provision(["--fetch"]);
  expect({ code: first.code, err: first.code === 0 ? "" : first.err }).toEqual({ code: 0, err: "" });
  const bin = first.out.trim().split("\n").pop()!;
  expect(bin).toBe(join(repo, ".cache/wrk/wrk"));
  expect(first.err).toContain("provision-wrk: installed wrk");

  const r = await runWrk({ bin, url: `http://127.0.0.1:${server.port}/`, connections: 2, seconds: 1, pin: [] });
  expect(r.requests).toBeGreaterThan(100);
  expect(r.non2xx).toBe(0);

  // The second time it is found in the cache: no fetch.
  const again = await provision(["--fetch"]);
  expect(again).toEqual({ code: 0, out: `${bin}\n`, err: "" });
}, 120_000);

test("a WRK_BIN that does not run is an error naming it; an unknown argument is a usage error", async () => {
  const bad = await provision([], { WRK_BIN: join(repo, "no-such-wrk") });
  expect(bad.code).toBe(1);
  expect(bad.err).toContain(`WRK_BIN=${join(repo, "no-such-wrk")} does not run`);
  const usage = await provision(["--now"]);
  expect(usage.code).toBe(2);
  expect(usage.err).toContain("usage: provision-wrk.sh [--fetch]");
});
