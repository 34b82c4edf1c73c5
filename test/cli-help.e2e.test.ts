// Every entry point answers --help and --version as a real process, through the same command its package.json
// script runs: exit 0, text on stdout, gone within seconds, and no process of theirs left behind (help starts nothing).
import { afterAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/mesh.ts";
import { COMMANDS } from "../cli/commands.ts";

const BIN = join(ROOT, "node_modules/.bin");
const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

/** A script's command with bun/deno from node_modules/.bin, as npm would run it. */
function script(name: string): string[] {
  const words = scripts[name]!.split(" ");
  return [join(BIN, words[0]!), ...words.slice(1)];
}
const bunRun = (file: string): string[] => [join(BIN, "bun"), "run", file];

const meshctlPages = COMMANDS.flatMap((c) => [[c.name], ...(c.subcommands ?? []).map((s) => [c.name, s.name])]);
const ENTRIES: Array<{ name: string; cmd: string[]; pages: string[][] }> = [
  { name: "sidecar", cmd: script("sidecar"), pages: [[]] },
  { name: "gateway", cmd: script("gateway"), pages: [[]] },
  { name: "gateway:deno", cmd: script("gateway:deno"), pages: [[]] },
  { name: "ca", cmd: bunRun("ca/main.ts"), pages: [[], ["init"], ["serve"], ["fingerprint"]] },
  { name: "meshctl", cmd: script("meshctl"), pages: [[], ...meshctlPages] },
  { name: "demo", cmd: script("demo"), pages: [[]] },
  { name: "bench", cmd: script("bench"), pages: [[]] },
  { name: "bench:consul", cmd: script("bench:consul"), pages: [[]] },
  { name: "three-hosts", cmd: script("three-hosts"), pages: [[]] },
  { name: "bench/profile.ts", cmd: bunRun("bench/profile.ts"), pages: [[]] },
  { name: "bench/ab.ts", cmd: bunRun("bench/ab.ts"), pages: [[]] },
  { name: "bench/alloc.ts", cmd: bunRun("bench/alloc.ts"), pages: [[]] },
];

type Run = { code: number | null; out: string; err: string; ms: number };
const live = new Set<number>();
const DEADLINE_MS = 8_000;
/**
 * Every command runs with this variable in its environment, which its children and any daemon inherit: a process
 * still carrying it after the commands exited was started by one of them. Scoped to this file's commands, so it holds
 * while other test files open listeners beside it (`bun test --parallel`), which a diff of the host's listening ports
 * did not.
 */
const MARK_NAME = "MESH_CLI_HELP_PROBE";
const MARK_VALUE = `${process.pid}-${crypto.randomUUID()}`;

/** One process, killed by PID if it outlives the deadline (help that starts a daemon would). */
async function run(argv: string[]): Promise<Run> {
  const began = performance.now();
  const p = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, NO_COLOR: "1", [MARK_NAME]: MARK_VALUE } });
  live.add(p.pid);
  const timer = setTimeout(() => p.kill("SIGKILL"), DEADLINE_MS);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { code: p.signalCode === null ? code : null, out, err, ms: performance.now() - began };
  } finally {
    clearTimeout(timer);
    live.delete(p.pid);
  }
}

/** At most `n` at a time: concurrency keeps the file fast, the bound keeps a loaded machine from timing them out. */
async function pool<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await f(items[i]!);
    }
  }));
  return results;
}

/** Processes whose environment carries the mark: what the commands started and left running. */
function marked(): Array<{ pid: number; cmd: string }> {
  const found: Array<{ pid: number; cmd: string }> = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (!readFileSync(`/proc/${e}/environ`, "utf8").split("\0").includes(`${MARK_NAME}=${MARK_VALUE}`)) continue;
      found.push({ pid: Number(e), cmd: readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").join(" ").trim() });
    } catch {
      // gone meanwhile, or another user's
    }
  }
  return found;
}

afterAll(() => {
  for (const pid of [...live, ...marked().map((p) => p.pid)]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

test("every entry point answers --help and --version with exit 0, text on stdout, and starts nothing", async () => {
  const cases = ENTRIES.flatMap((e) => [
    ...e.pages.map((page) => ({ label: `${e.name} ${[...page, "--help"].join(" ")}`, argv: [...e.cmd, ...page, "--help"], kind: "help" as const })),
    { label: `${e.name} --version`, argv: [...e.cmd, "--version"], kind: "version" as const },
  ]);
  const results = await pool(cases, 6, async (c) => ({ c, r: await run(c.argv) }));
  const problems: string[] = [];
  for (const { c, r } of results) {
    if (r.code !== 0) problems.push(`${c.label}: exit ${r.code ?? "killed after " + DEADLINE_MS + " ms"}: ${r.err.slice(0, 300)}`);
    else if (c.kind === "help" && !/usage:/.test(r.out)) problems.push(`${c.label}: no usage on stdout: ${r.out.slice(0, 200)}`);
    else if (c.kind === "version" && !r.out.startsWith(`vm-mesh ${version} (`)) problems.push(`${c.label}: version line is ${JSON.stringify(r.out.slice(0, 100))}`);
    if (r.out.includes('"msg":"ready"')) problems.push(`${c.label}: started something (a ready line on stdout)`);
  }
  expect(problems).toEqual([]);
  // A help that spawned a daemon or a child would leave it behind (the parent is gone by now).
  expect(marked()).toEqual([]);
}, 60_000);

test("usage errors exit 2 everywhere, with the message on stderr", async () => {
  const cases = [
    [...script("sidecar"), "--no-such-flag"], [...script("gateway"), "--no-such-flag"], [...bunRun("ca/main.ts"), "nope"],
    [...script("meshctl"), "nope"], [...script("meshctl"), "apply"], [...script("bench"), "--no-such-flag"], [...script("demo"), "--no-such-flag"],
  ];
  const results = await pool(cases, 6, run);
  expect(results.map((r) => r.code)).toEqual(cases.map(() => 2));
  for (const r of results) expect(r.err.length).toBeGreaterThan(0);
}, 30_000);

test("meshctl: Consul unreachable is exit 3; completion scripts for bash, zsh and fish, and bash accepts its own", async () => {
  const down = await run([...script("meshctl"), "get", "--consul", "http://127.0.0.1:1"]);
  expect(down.code).toBe(3);
  const [bash, zsh, fish] = await pool(["bash", "zsh", "fish"], 3, (s) => run([...script("meshctl"), "completion", s]));
  for (const r of [bash!, zsh!, fish!]) {
    expect(r.code).toBe(0);
    expect(r.out).toContain("meshctl");
  }
  const check = Bun.spawnSync(["bash", "-n"], { stdin: new TextEncoder().encode(bash!.out) });
  expect(check.stderr.toString()).toBe("");
  expect(check.exitCode).toBe(0);
}, 30_000);
