// Steady load through the gateway from the root namespace: N keep-alive loops with fetch, each paced to a rate,
// counting sent and failed (non-2xx, a wrong body, a network error) with error samples and who answered.

export type LoadOptions = {
  /** http://<host1>:8080 */
  baseUrl: string;
  /** Paths sent in turn by every loop, e.g. ["/echo", "/web"]. */
  paths: readonly string[];
  concurrency?: number;
  /** Requests per second per loop; 0 = as fast as the loop goes. */
  ratePerLoop?: number;
  /** A request that takes longer than this is a failure. */
  timeoutMs?: number;
};

export type LoadSample = { at: number; path: string; error: string };

export type LoadResult = {
  sent: number;
  failed: number;
  durationMs: number;
  /** The first failures (time relative to the load's start). */
  samples: LoadSample[];
  /** Answers per echo instance as the gateway reached it ("/echo") and as web reached it ("/web"). */
  echoInstances: Record<string, number>;
  echoViaWeb: Record<string, number>;
  webInstances: Record<string, number>;
  p99Ms: number;
  maxMs: number;
};

export type Load = { readonly startedAt: number; stop(): Promise<LoadResult>; snapshot(): { sent: number; failed: number } };

const MAX_SAMPLES = 20;

type EchoBody = { service?: string; instance?: string };
type WebBody = { service?: string; instance?: string; echoStatus?: number; echo?: EchoBody };

/** What is wrong with an answer, or undefined when it is what the path should give. */
function check(path: string, status: number, text: string): { error?: string; echo?: string; web?: string } {
  if (status < 200 || status > 299) return { error: `${status} ${text.slice(0, 160)}` };
  let body: WebBody;
  try {
    body = JSON.parse(text) as WebBody;
  } catch {
    return { error: `${status} not JSON: ${text.slice(0, 120)}` };
  }
  if (path.startsWith("/web")) {
    if (body.service !== "web") return { error: `${status} not from web: ${text.slice(0, 160)}` };
    if (body.echoStatus !== 200 || body.echo?.service !== "echo") return { error: `web -> echo answered ${body.echoStatus}: ${JSON.stringify(body.echo).slice(0, 160)}` };
    return { echo: body.echo.instance, web: body.instance };
  }
  if (body.service !== "echo") return { error: `${status} not from echo: ${text.slice(0, 160)}` };
  return { echo: body.instance };
}

export function startLoad(o: LoadOptions): Load {
  const concurrency = o.concurrency ?? 4;
  const interval = (o.ratePerLoop ?? 50) > 0 ? 1000 / (o.ratePerLoop ?? 50) : 0;
  const startedAt = performance.now();
  let stopping = false;
  let sent = 0;
  let failed = 0;
  const samples: LoadSample[] = [];
  const echoInstances: Record<string, number> = {};
  const echoViaWeb: Record<string, number> = {};
  const webInstances: Record<string, number> = {};
  const latencies: number[] = [];
  const bump = (m: Record<string, number>, k: string | undefined) => {
    if (k !== undefined) m[k] = (m[k] ?? 0) + 1;
  };

  const loop = async (n: number): Promise<void> => {
    let i = n;
    while (!stopping) {
      const path = o.paths[i++ % o.paths.length]!;
      const began = performance.now();
      let verdict: ReturnType<typeof check>;
      try {
        const res = await fetch(`${o.baseUrl}${path}`, { signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
        verdict = check(path, res.status, await res.text());
      } catch (err) {
        verdict = { error: `network: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}` };
      }
      const took = performance.now() - began;
      sent++;
      latencies.push(took);
      if (verdict.error !== undefined) {
        failed++;
        if (samples.length < MAX_SAMPLES) samples.push({ at: Math.round(began - startedAt), path, error: verdict.error });
      } else if (path.startsWith("/web")) {
        bump(echoViaWeb, verdict.echo);
        bump(webInstances, verdict.web);
      } else {
        bump(echoInstances, verdict.echo);
      }
      if (interval > 0) await Bun.sleep(Math.max(0, interval - took));
    }
  };
  const loops = Array.from({ length: concurrency }, (_, n) => loop(n));

  return {
    startedAt,
    snapshot: () => ({ sent, failed }),
    async stop() {
      stopping = true;
      await Promise.all(loops);
      const sorted = latencies.sort((a, b) => a - b);
      return {
        sent, failed, samples, echoInstances, echoViaWeb, webInstances,
        durationMs: performance.now() - startedAt,
        p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
        maxMs: sorted[sorted.length - 1] ?? 0,
      };
    },
  };
}
