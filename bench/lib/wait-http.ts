// Waits until a request through a freshly started scenario answers 200 with the upstream's body.
// For peers without a ready line (nginx) or that need seconds to get certificates (Consul Connect proxies).
import type { Managed, ProcessSet } from "./proc.ts";

export type WaitHttp = {
  readonly url: string;
  readonly host?: string;
  /** Processes that must stay alive meanwhile: if one exits, waiting is pointless and its log says why. */
  readonly procs: readonly Managed[];
  readonly timeoutMs: number;
  /** Names the wait in the error, e.g. "consul-pair: probe through both proxies". */
  readonly what: string;
};

export async function waitForOk(set: ProcessSet, w: WaitHttp): Promise<void> {
  const deadline = Date.now() + w.timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    const dead = w.procs.find((m) => m.proc.exitCode !== null || m.proc.signalCode !== null);
    if (dead) throw new Error(`${w.what}: ${dead.name} exited (${dead.proc.exitCode ?? dead.proc.signalCode})\n${set.describe(dead)}`);
    try {
      const res = await fetch(w.url, { headers: w.host ? { host: w.host } : {}, signal: AbortSignal.timeout(1000) });
      const body = await res.text();
      if (res.status === 200 && body.includes('"ok"')) return;
      last = `${res.status} ${body.slice(0, 120)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await Bun.sleep(200);
  }
  throw new Error(`${w.what}: no 200 from ${w.url} within ${w.timeoutMs / 1000} s (last: ${last})\n${w.procs.map((m) => set.describe(m)).join("\n")}`);
}
