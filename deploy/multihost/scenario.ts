// The "three hosts, for real" scenario: the steps in the order they run (authorization before host3 dies, since
// web lives there too), and one function that runs them all on a fresh cluster and always tears it down.
import { startCluster, type Cluster, type ClusterOptions } from "./cluster.ts";
import { DEFAULT_STEP_OPTIONS, type Step, type StepOptions, type StepResult } from "./step.ts";
import { baseline } from "./steps/baseline.ts";
import { caRestart } from "./steps/ca-restart.ts";
import { rootRotation } from "./steps/root-rotation.ts";
import { newMember } from "./steps/new-member.ts";
import { rollingRestart } from "./steps/rolling-restart.ts";
import { authorization } from "./steps/authorization.ts";
import { host3Kill } from "./steps/host3-kill.ts";

export const STEPS: readonly Step[] = [baseline, caRestart, rootRotation, newMember, rollingRestart, authorization, host3Kill];

export type ScenarioOptions = ClusterOptions & Partial<StepOptions> & {
  /** Step names to leave out (e.g. root-rotation); the others still run in order. */
  skip?: readonly string[];
  onStep?: (r: StepResult) => void;
  /** Awaited after the last step, before teardown (run.ts --hold: look around, Ctrl-C to end). */
  beforeTeardown?: (c: Cluster) => Promise<void>;
};

export type ScenarioResult = { results: StepResult[]; setupMs: number; error?: Error; teardownProblems: string[] };

export async function runScenario(o: ScenarioOptions = {}): Promise<ScenarioResult> {
  const stepOptions: StepOptions = { ...DEFAULT_STEP_OPTIONS, ...definedOnly(o) };
  const started = performance.now();
  const cluster = await startCluster(o);
  const setupMs = performance.now() - started;
  const results: StepResult[] = [];
  let error: Error | undefined;
  try {
    for (const step of STEPS) {
      if (o.skip?.includes(step.name)) continue;
      cluster.log(`step ${step.name}: ${step.title}`);
      const r = await step.run(cluster, stepOptions);
      results.push(r);
      o.onStep?.(r);
    }
    await o.beforeTeardown?.(cluster);
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err));
  }
  const failed = error !== undefined || results.some((r) => r.failed > 0);
  const teardownProblems = await cluster.teardown({ keepDir: failed });
  return { results, setupMs, teardownProblems, ...(error === undefined ? {} : { error }) };
}

function definedOnly(o: Partial<StepOptions>): Partial<StepOptions> {
  const out: Partial<StepOptions> = {};
  if (o.ratePerLoop !== undefined) out.ratePerLoop = o.ratePerLoop;
  if (o.settleMs !== undefined) out.settleMs = o.settleMs;
  if (o.host3Death !== undefined) out.host3Death = o.host3Death;
  return out;
}
