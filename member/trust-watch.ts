// Follows the CA's trust bundle with a long poll (GET /v1/trust-bundle?index=N&wait=20s), so a root rotation reaches
// every member within moments: on each new index the caller adopts the bundle and renews early if the signing root moved.
import type { TrustBundleState } from "../shared/pki/ca-client.ts";

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void };

export const WATCH_WAIT_MS = 20_000;
const MIN_INTERVAL_MS = 1000;
const RETRY_MAX_MS = 30_000;

export function startTrustWatch(o: {
  watch: (index: number) => Promise<TrustBundleState>;
  onState: (s: TrustBundleState) => Promise<void>;
  log: Log;
}): { stop(): void } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let index = 0;
  let failures = 0;

  const later = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void round(), ms);
    (timer as { unref?: () => void }).unref?.();
  };

  const round = async (): Promise<void> => {
    const started = Date.now();
    try {
      const s = await o.watch(index);
      if (stopped) return;
      if (failures > 0) o.log.info({ bundleIndex: s.index }, "trust bundle watch reconnected to the CA");
      failures = 0;
      if (s.index !== index) {
        await o.onState(s);
        index = s.index;
      }
      // An answer at once with nothing new (a CA that does not hold requests) must not become a busy loop.
      later(Math.max(0, MIN_INTERVAL_MS - (Date.now() - started)));
    } catch (err) {
      failures++;
      if (failures === 1) o.log.warn({ err: err instanceof Error ? err.message : String(err) }, "trust bundle watch failed; keeping the current bundle and retrying with backoff");
      later(Math.min(RETRY_MAX_MS, MIN_INTERVAL_MS * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random() * 0.5));
    }
  };
  void round();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
