// Keep-last-good engine: parse each update, compile it, and only swap in configs that passed every check.
// Providers (file, Consul KV) feed it text; the caller decides what "apply" means (swap a Snapshot, log, ...).
import type { MeshConfig } from "../config/schema.ts";
import { ROOT_PATH, type ConfigIssue } from "../config/issues.ts";
import { checkConfigState, type CheckedState, type ConfigState } from "../config/provider.ts";

export type ConfigWatcherOptions<T> = {
  /** Raw states (checked here) or states a reader already checked once (member/config-source.ts): never both checks. */
  updates: AsyncIterable<ConfigState | CheckedState>;
  /** Builds the runtime value (e.g. a Snapshot). A throw is a rejection, so the last good value stays. */
  compile: (config: MeshConfig) => T;
  onApply: (value: T, info: { source: string; version: number }) => void;
  onReject: (issues: ConfigIssue[]) => void;
  /**
   * The provider went back to the text that is live, after a rejection: nothing to apply (the snapshot and its
   * cluster state stay), but the rejection no longer describes the source and should stop being shown.
   */
  onRestored?: (info: { source: string; version: number }) => void;
};

/**
 * `done` resolves when the updates end or after stop(); it rejects if the provider or a callback throws
 * (callbacks are the caller's code: a throw there is a bug to surface, not a config problem).
 */
export type ConfigWatcher = { stop(): void; done: Promise<void> };

export function createConfigWatcher<T>(opts: ConfigWatcherOptions<T>): ConfigWatcher {
  let stopped = false;
  const it = opts.updates[Symbol.asyncIterator]();
  // The wait for the provider's next state, which stop() ends early. A fresh promise per wait: racing every next()
  // against one long-lived stop promise left a reaction on it per state, each holding that state (a whole config,
  // and its text) for as long as the member ran.
  let wake: ((r: undefined) => void) | undefined;
  const nextOrStop = (): Promise<IteratorResult<ConfigState | CheckedState> | undefined> =>
    new Promise((resolve, reject) => {
      wake = resolve;
      it.next().then(resolve, reject);
    });

  let lastSeen: string | undefined;
  let lastApplied: string | undefined;
  let version = 0;
  let rejectedSinceApply = false;

  const handle = async (state: ConfigState | CheckedState): Promise<void> => {
    const text = "result" in state ? state.key : "text" in state ? state.text : state.key;
    const source = state.source;
    // Same state as last time (providers may repeat themselves), or back to what is already live: nothing to do.
    if (text === lastSeen) return;
    lastSeen = text;
    if (text === lastApplied) {
      if (rejectedSinceApply) opts.onRestored?.({ source, version });
      rejectedSinceApply = false;
      return;
    }
    const reject = (issues: ConfigIssue[]): void => {
      rejectedSinceApply = true;
      opts.onReject(issues);
    };
    const parsed = "result" in state ? state.result : (await checkConfigState(state)).result;
    // stop() during the check: a stopped watcher applies nothing more.
    if (stopped) return;
    if (!parsed.ok) return reject(parsed.issues);
    let value: T;
    try {
      value = opts.compile(parsed.config);
    } catch (e) {
      return reject([{ source, path: ROOT_PATH, message: `compile failed: ${e instanceof Error ? e.message : String(e)}` }]);
    }
    rejectedSinceApply = false;
    lastApplied = text;
    version += 1;
    opts.onApply(value, { source, version });
  };

  const run = async (): Promise<void> => {
    try {
      while (!stopped) {
        const r = await nextOrStop();
        wake = undefined;
        if (r === undefined || r.done || stopped) break;
        await handle(r.value);
      }
    } finally {
      // Not awaited: a provider blocked in next() may only finish its return() later.
      void it.return?.()?.catch(() => {});
    }
  };

  const done = run();
  return {
    stop(): void {
      stopped = true;
      wake?.(undefined);
    },
    done,
  };
}
