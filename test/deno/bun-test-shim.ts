// The `bun:test` API on Deno, so shared/ unit tests run unchanged under `deno test` (mapped by test/deno/deno.json).
// Every test becomes one flat Deno.test named "describe > test", so Deno's pass/fail counts are counts of tests.
import "reflect-metadata"; // bunfig.toml preloads it on Bun (test/preload.ts); @peculiar/x509 needs it first
import { expect } from "./expect.ts";
import { formatEachName } from "./each-name.ts";
import { EXCLUDED_ON_DENO } from "./excluded.ts";

export { expect };

type Fn = () => unknown;
type TestFn = () => unknown;
type TestOptions = number | { timeout?: number };
type DenoTest = { test(def: { name: string; fn: () => Promise<void>; ignore?: boolean; only?: boolean; sanitizeOps: boolean; sanitizeResources: boolean; sanitizeExit: boolean }): void };

// Typed here instead of with Deno's lib: the repo's root tsconfig checks this file with Bun's types only.
const deno = (globalThis as { Deno?: DenoTest }).Deno;
if (deno === undefined) throw new Error("test/deno/bun-test-shim.ts is the bun:test API for Deno; on Bun, import bun:test itself");

/** bunfig.toml's [test] timeout: integration-sized room on a 2-core machine. */
const DEFAULT_TIMEOUT_MS = 30_000;

type Suite = {
  readonly name: string | undefined;
  readonly parent: Suite | undefined;
  readonly beforeAll: Fn[];
  readonly afterAll: Fn[];
  readonly beforeEach: Fn[];
  readonly afterEach: Fn[];
  /** Tests registered under this suite that have not finished: afterAll runs when the last one has. */
  remaining: number;
  /** beforeAll runs once, before the first test that needs it; its failure fails every test of the suite. */
  started: Promise<void> | undefined;
};

const newSuite = (name: string | undefined, parent: Suite | undefined): Suite => ({ name, parent, beforeAll: [], afterAll: [], beforeEach: [], afterEach: [], remaining: 0, started: undefined });
const root = newSuite(undefined, undefined);
let current = root;

/** Outermost first. */
function chain(s: Suite): Suite[] {
  const out: Suite[] = [];
  for (let x: Suite | undefined = s; x !== undefined; x = x.parent) out.unshift(x);
  return out;
}

async function runAll(fns: Fn[]): Promise<void> {
  for (const f of fns) await f();
}

async function withTimeout(fn: TestFn, ms: number, name: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test "${name}" timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function register(name: string, fn: TestFn, opts: TestOptions | undefined, mode: "run" | "skip" | "only"): void {
  const suites = chain(current);
  const fullName = [...suites.map((s) => s.name).filter((n) => n !== undefined), name].join(" > ");
  const timeoutMs = typeof opts === "number" ? opts : opts?.timeout ?? DEFAULT_TIMEOUT_MS;
  if (skipping || EXCLUDED_ON_DENO.has(fullName)) mode = "skip";
  if (mode !== "skip") for (const s of suites) s.remaining++;
  deno!.test({
    name: fullName,
    ignore: mode === "skip",
    only: mode === "only",
    // Bun checks no leaked timers or sockets either; servers closed in afterAll would trip Deno's per-test sanitizers.
    sanitizeOps: false,
    sanitizeResources: false,
    sanitizeExit: false,
    async fn() {
      try {
        for (const s of suites) {
          s.started ??= runAll(s.beforeAll);
          await s.started;
        }
        try {
          for (const s of suites) await runAll(s.beforeEach);
          await withTimeout(fn, timeoutMs, fullName);
        } finally {
          for (const s of [...suites].reverse()) await runAll(s.afterEach);
        }
      } finally {
        for (const s of [...suites].reverse()) if (--s.remaining === 0) await runAll(s.afterAll);
      }
    },
  });
}

type Each = <T>(table: readonly T[]) => (name: string, fn: (...args: any[]) => unknown, opts?: TestOptions) => void;
type TestApi = {
  (name: string, fn: TestFn, opts?: TestOptions): void;
  skip(name: string, fn?: TestFn, opts?: TestOptions): void;
  only(name: string, fn: TestFn, opts?: TestOptions): void;
  todo(name: string, fn?: TestFn): void;
  if(condition: boolean): (name: string, fn: TestFn, opts?: TestOptions) => void;
  skipIf(condition: boolean): (name: string, fn: TestFn, opts?: TestOptions) => void;
  each: Each;
};

const args = (row: unknown): unknown[] => (Array.isArray(row) ? row : [row]);

export const test: TestApi = Object.assign((name: string, fn: TestFn, opts?: TestOptions) => register(name, fn, opts, "run"), {
  skip: (name: string, fn: TestFn = () => {}, opts?: TestOptions) => register(name, fn, opts, "skip"),
  only: (name: string, fn: TestFn, opts?: TestOptions) => register(name, fn, opts, "only"),
  todo: (name: string, fn: TestFn = () => {}) => register(`${name} (todo)`, fn, undefined, "skip"),
  if: (condition: boolean) => (name: string, fn: TestFn, opts?: TestOptions) => register(name, fn, opts, condition ? "run" : "skip"),
  skipIf: (condition: boolean) => (name: string, fn: TestFn, opts?: TestOptions) => register(name, fn, opts, condition ? "skip" : "run"),
  each: <T,>(table: readonly T[]) => (name: string, fn: (...a: any[]) => unknown, opts?: TestOptions) => {
    table.forEach((row, i) => register(formatEachName(name, args(row), i), () => fn(...args(row)), opts, "run"));
  },
});
export const it = test;

type DescribeApi = {
  (name: string, fn: () => void): void;
  skip(name: string, fn: () => void): void;
  each: <T>(table: readonly T[]) => (name: string, fn: (...args: any[]) => void) => void;
};

/** Inside describe.skip: every test below is registered as ignored (Deno still lists them, as Bun does). */
let skipping = false;

function suite(name: string, fn: () => void, skip = false): void {
  const parent = current;
  const wasSkipping = skipping;
  current = newSuite(name, parent);
  skipping ||= skip;
  try {
    fn();
  } finally {
    current = parent;
    skipping = wasSkipping;
  }
}

export const describe: DescribeApi = Object.assign((name: string, fn: () => void) => suite(name, fn), {
  skip: (name: string, fn: () => void) => suite(name, fn, true),
  each: <T,>(table: readonly T[]) => (name: string, fn: (...a: any[]) => void) => {
    table.forEach((row, i) => suite(formatEachName(name, args(row), i), () => fn(...args(row))));
  },
});

export const beforeAll = (fn: Fn): void => void current.beforeAll.push(fn);
export const afterAll = (fn: Fn): void => void current.afterAll.push(fn);
export const beforeEach = (fn: Fn): void => void current.beforeEach.push(fn);
export const afterEach = (fn: Fn): void => void current.afterEach.push(fn);
