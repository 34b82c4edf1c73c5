// What every scenario step is and returns, and the one way a step runs: steady load through the gateway for a
// lead-in, the step's action, a tail; the load's sent/failed counts are the step's.
import type { Cluster } from "./cluster.ts";
import { startLoad, type Load, type LoadResult, type LoadSample } from "./load.ts";

export type StepResult = {
  step: string;
  sent: number;
  failed: number;
  durationMs: number;
  notes: string[];
  samples: LoadSample[];
  /** Set when the step did not run, with why (e.g. a command this checkout does not have yet). */
  skipped?: string;
  load?: LoadResult;
  /** Step-specific measurements the test asserts on. */
  data: Record<string, unknown>;
};

export type Step = { name: string; title: string; run(c: Cluster, o: StepOptions): Promise<StepResult> };

export type StepOptions = {
  /** Requests per second per load loop (4 loops); 0 = unpaced. */
  ratePerLoop: number;
  /** Load before and after the action, so each step starts and ends in a steady state. */
  settleMs: number;
  /** How host3 dies: its processes SIGKILLed (peers get refused connections), or that and its link cut (silence). */
  host3Death: "kill" | "unplug";
};

export const DEFAULT_STEP_OPTIONS: StepOptions = { ratePerLoop: 50, settleMs: 1500, host3Death: "kill" };

export type ActionContext = { mark: (what: string) => void; load: Load };

/** Runs `action` under load on `paths`; what it returns (notes, data) becomes the step's result. */
export async function underLoad(
  c: Cluster,
  o: StepOptions,
  step: string,
  paths: readonly string[],
  action: (ctx: ActionContext) => Promise<{ notes?: string[]; data?: Record<string, unknown> }>,
): Promise<StepResult> {
  const load = startLoad({ baseUrl: c.gatewayUrl, paths, concurrency: 4, ratePerLoop: o.ratePerLoop });
  const mark = (what: string) => c.log(`  [${step} +${((performance.now() - load.startedAt) / 1000).toFixed(1)}s] ${what}`);
  let outcome: { notes?: string[]; data?: Record<string, unknown> } = {};
  let error: unknown;
  try {
    await Bun.sleep(o.settleMs);
    outcome = await action({ mark, load });
    await Bun.sleep(o.settleMs);
  } catch (err) {
    error = err;
  }
  const r = await load.stop();
  if (error !== undefined) {
    const e = error instanceof Error ? error : new Error(String(error));
    e.message = `${step}: ${e.message} (load so far: ${r.sent} sent, ${r.failed} failed${r.samples.length > 0 ? `; first failure: ${r.samples[0]!.error}` : ""})`;
    throw e;
  }
  return { step, sent: r.sent, failed: r.failed, durationMs: r.durationMs, notes: outcome.notes ?? [], samples: r.samples, load: r, data: outcome.data ?? {} };
}

export function skipped(step: string, why: string): StepResult {
  return { step, sent: 0, failed: 0, durationMs: 0, notes: [], samples: [], skipped: why, data: {} };
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** "echo-v1:120 echo-v2:118": who answered how often. */
export const counts = (m: Record<string, number>): string => Object.entries(m).sort().map(([k, v]) => `${k}:${v}`).join(" ") || "none";
