// `npm run bench` end to end on two rows: real wrk (on PATH or fetched from Debian), real sidecar and bare-Bun
// processes, the settling pass's paired rounds, results written where --out says and every process stopped after.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const dir = mkdtempSync(join(tmpdir(), "bench-run-test-"));
const committed = join(ROOT, "bench/results/latest.json");

/** PIDs of live processes whose command line names `dir` (the bench's temp folder sits in it: TMPDIR below). */
function processesUnder(d: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${e}/cmdline`, "utf8").includes(d)) pids.push(Number(e));
    } catch {
      // gone between the listing and the read
    }
  }
  return pids;
}

afterAll(() => {
  // Whatever a failed run left behind, by PID, before the folder goes.
  for (const pid of processesUnder(dir)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

type Settled = { median: number; min: number; max: number; rounds: number };
type Results = {
  quick: boolean;
  rounds: number;
  settle_rounds: number;
  settle_all?: boolean;
  scenarios: Record<string, { c64: { rps: number; cpu_ms_per_1k?: number }; errors: number }>;
  targets: Record<string, { status: string; detail: string; settled?: Settled }>;
};

test("bench/run.ts measures bun-bare and the hop, settles their targets in paired rounds, writes to --out and stops every process", async () => {
  const before = statSync(committed).mtimeMs;
  const out = join(dir, "results");
  const args = ["--quick", "--rounds", "1", "--settle-rounds", "2", "--settle-all", "--only", "bun-bare,sidecar-hop", "--out", out];
  const p = Bun.spawn([process.execPath, join(ROOT, "bench/run.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: dir },
    stdout: "pipe",
    stderr: "pipe",
  });
  // SIGTERM first: the runner then stops what it started; SIGKILL only if it does not.
  const timer = setTimeout(() => {
    p.kill("SIGTERM");
    setTimeout(() => p.kill("SIGKILL"), 10_000);
  }, 150_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  expect({ code, stderr: code === 0 ? "" : `${stdout}\n${stderr}` }).toEqual({ code: 0, stderr: "" });

  const r = JSON.parse(readFileSync(join(out, "latest.json"), "utf8")) as Results;
  expect(readFileSync(join(out, "latest.svg"), "utf8")).toContain("<svg");
  expect(statSync(committed).mtimeMs).toBe(before); // the committed results are not a test's scratch space
  expect({ quick: r.quick, rounds: r.rounds, settle_rounds: r.settle_rounds, settle_all: r.settle_all }).toEqual({ quick: true, rounds: 1, settle_rounds: 2, settle_all: true });
  for (const name of ["bun-bare", "sidecar-hop"]) {
    const s = r.scenarios[name]!;
    expect(s.errors).toBe(0);
    expect(s.c64.rps).toBeGreaterThan(100);
    expect(s.c64.cpu_ms_per_1k).toBeGreaterThan(0);
  }

  // Both hop targets share one comparison of the two rows: two paired rounds each, and the median decides.
  const rps = r.targets["sidecar-hop rps >= 0.85x bun-bare"]!;
  const cpu = r.targets["sidecar-hop cpu_ms_per_1k <= 1.30x bun-bare"]!;
  for (const [t, holds] of [[rps, (m: number) => m >= 0.85], [cpu, (m: number) => m <= 1.3]] as const) {
    expect(t.settled, t.detail).toBeDefined();
    const s = t.settled!;
    expect(s.rounds).toBe(2);
    expect(s.min).toBeLessThanOrEqual(s.median);
    expect(s.median).toBeLessThanOrEqual(s.max);
    expect(t.status).toBe(holds(s.median) ? "PASS" : "MISS");
    expect(t.detail).toMatch(/^settled .* the run said (PASS|MISS) /);
  }
  // Rows this run did not measure are skipped, never settled.
  expect(r.targets["tcp-pair rps >= 1.20x consul-pair"]).toMatchObject({ status: "SKIP" });
  expect(r.targets["tcp-pair rps >= 1.20x consul-pair"]!.settled).toBeUndefined();
  expect(stdout).toContain("settling 1/1: sidecar-hop vs bun-bare, 2 paired rounds");
  expect(processesUnder(dir)).toEqual([]);
}, 180_000);
