// The settling pass's latency rounds over real processes: a c=1 target judged again on three rows (direct, bare Bun,
// a sidecar hop) measured by real wrk in the same rounds, from what each proxy adds over direct; every proxy stopped.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { startEnv } from "../bench/lib/harness.ts";
import { ProcessSet } from "../bench/lib/proc.ts";
import { settleTargets } from "../bench/lib/settle-run.ts";
import { addedLatencyTarget, type TargetResult } from "../bench/lib/targets.ts";
import { findWrk } from "../bench/lib/wrk.ts";

const ROOT = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "bench-settle-test-"));
/** The upstream (and the CA, started on first use) live in `shared`; each paired start gets a set of its own. */
const shared = new ProcessSet(dir);
const started: ProcessSet[] = [];

afterAll(async () => {
  await Promise.all([...started, shared].map((s) => s.stopAll()));
  rmSync(dir, { recursive: true, force: true });
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test("a c=1 target near its line is settled in paired rounds of c=1 wrk on direct and both rows, then every proxy stops", async () => {
  const wrk = await findWrk(ROOT);
  // No CPU pinning: this checks what is measured and how it is judged, not how fast (the bench does that).
  const env = await startEnv(shared, dir, { ncpu: cpus().length, pinned: false, pinProxy: [], pinLoad: [], note: "" });
  const check = addedLatencyTarget("sidecar-hop", 1.5, "bun-bare");
  // What the run said: 1.6x in its only round, within 10 % of the line, so the pass judges it again.
  const run: TargetResult = { name: "sidecar-hop c1 added p50 <= 1.50x bun-bare", status: "MISS", detail: "the run's detail", ratio: 1.6, rounds: [1.6] };
  const logs: string[] = [];
  const { results, errors } = await settleTargets(env, [check], [run], {
    rounds: 2, seconds: 1, restartEvery: 1, warmup: 1, pinLoad: [], pinProxy: [], wrk, dir: join(dir, "settle"),
    track: (s) => started.push(s), transient: shared.transient, log: (m) => logs.push(m),
  });

  expect(errors).toEqual({});
  expect(logs[0]).toBe("settling 1/1: sidecar-hop vs bun-bare over direct at c=1, 2 paired rounds of 1 s (1 target(s))");
  const rounds = logs.map((l) => /round (\d)\/2: c1 p50 A (\d+) µs, B (\d+) µs, base (\d+) µs$/.exec(l)).filter((m) => m !== null);
  expect(rounds.map((m) => m[1])).toEqual(["1", "2"]);
  for (const m of rounds) {
    const [a, b, base] = [Number(m[2]), Number(m[3]), Number(m[4])];
    // Each proxy is one more loopback hop and a request of its own to the upstream: slower than the upstream alone.
    expect(a, m[0]).toBeGreaterThan(base);
    expect(b, m[0]).toBeGreaterThan(base);
  }
  const r = results[0]!;
  expect(r.settled?.rounds).toBe(2);
  expect(r.status).toBe(r.ratio! <= 1.5 ? "PASS" : "MISS");
  expect(r.detail).toMatch(/^settled \d+\.\d{3,4}x bun-bare \(\d\.\d\d–\d\.\d\d, 2 paired rounds; added \+\d+ vs \+\d+ µs \(medians\)\), target <= 1\.5x; the run said MISS the run's detail$/);

  // Two starts (restartEvery 1) of three sides, each in a set of its own, all stopped by the pass itself.
  expect(started.length).toBe(6);
  const proxies = started.flatMap((s) => s.all);
  expect(proxies.map((m) => m.name).sort()).toEqual(["bun-bare", "bun-bare", "hop-sidecar", "hop-sidecar"]);
  expect(proxies.filter((m) => alive(m.pid))).toEqual([]);
}, 60_000);
