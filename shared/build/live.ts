// Holds a member's current Snapshot and swaps it when the provider yields a valid new config.
// Readers call current() once per request; rejected configs are kept for the admin status, never applied.
import type { Snapshot, Forwarder, ServiceInfo } from "../proxy/snapshot.ts";
import type { ConfigIssue } from "../config/issues.ts";
import type { CheckedState, ConfigState } from "../config/provider.ts";
import type { KvHold } from "../config/kv-guard.ts";
import { formatIssue } from "../config/issues.ts";
import { createConfigWatcher } from "./watcher.ts";
import { compileSnapshot } from "./compile.ts";
import { createClusterRegistry, type ClusterRegistry } from "../upstream/registry.ts";

export type LiveStatus = {
  version: number;
  source: string;
  appliedAt: string | undefined;
  rejected: ConfigIssue[];
  rejectedAt: string | undefined;
  /** Documents rejected on their own by the provider (Consul KV); their last good versions keep serving. */
  rejectedDocuments: ConfigIssue[];
  /** Set while the KV source looks lost (prefix empty or vanished, index reset, partial refill): the live config is kept on purpose. */
  held: KvHold | undefined;
  /** Holds begun since start: a counter for a metric; `held` is the gauge. */
  holds: number;
};

export type LiveSnapshot = {
  current(): Snapshot;
  status(): LiveStatus;
  /** Called after every applied snapshot (e.g. to refresh listeners or discovery). */
  onApply(fn: (snap: Snapshot) => void): void;
  /** The member's clusters: what survives reloads (balancer state, discovered endpoints). */
  readonly clusters: ClusterRegistry;
  stop(): void;
};

export type LiveOptions = {
  updates: AsyncIterable<ConfigState | CheckedState>;
  forwarder: (service: ServiceInfo) => Forwarder;
  /** The member: its service (or gateway name) and instance, for faults that target callers or instances. */
  self?: { readonly service: string; readonly instance?: string | undefined };
  /** Lifecycle lines (applied, rejected) are ones supervisors and tests wait for: `flush` writes them out at once. */
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void; flush?(): void };
  documentIssues?: () => ConfigIssue[];
  held?: () => KvHold | undefined;
  holds?: () => number;
  /** How long to wait for the first valid config before giving up. */
  firstConfigTimeoutMs?: number;
};

/** Resolves once the first valid config is live; rejects if the first config is invalid and none arrives in time. */
export function startLiveSnapshot(opts: LiveOptions): Promise<LiveSnapshot> {
  let snap: Snapshot | undefined;
  let counter = 0;
  const listeners: Array<(s: Snapshot) => void> = [];
  // One registry per holder, so an unchanged cluster keeps its state across every reload of this member.
  const clusters = createClusterRegistry();
  let compileMs = 0;
  const status: LiveStatus = { version: 0, source: "", appliedAt: undefined, rejected: [], rejectedAt: undefined, rejectedDocuments: [], held: undefined, holds: 0 };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      watcher.stop();
      const why = status.rejected.map(formatIssue).join("; ") || "no config received";
      reject(new Error(`no valid config: ${why}`));
    }, opts.firstConfigTimeoutMs ?? 10_000);

    const live: LiveSnapshot = {
      current: () => snap!,
      status: () => ({ ...status, rejected: [...status.rejected], rejectedDocuments: opts.documentIssues?.() ?? [], held: opts.held?.(), holds: opts.holds?.() ?? 0 }),
      onApply: (fn) => void listeners.push(fn),
      clusters,
      stop: () => watcher.stop(),
    };

    const watcher = createConfigWatcher<Snapshot>({
      updates: opts.updates,
      compile: (config) => {
        const began = performance.now();
        const compiled = compileSnapshot(config, { version: counter + 1, source: "", forwarder: opts.forwarder, clusters, ...(opts.self === undefined ? {} : { self: opts.self }) });
        compileMs = Math.round(performance.now() - began);
        return compiled;
      },
      onApply: (value, info) => {
        counter = info.version;
        snap = { ...value, version: info.version, source: info.source };
        Object.assign(status, { version: info.version, source: info.source, appliedAt: new Date().toISOString(), rejected: [], rejectedAt: undefined });
        opts.log.info({ version: info.version, source: info.source, compileMs }, "config applied");
        opts.log.flush?.();
        for (const fn of listeners) fn(snap);
        clearTimeout(timer);
        resolve(live);
      },
      onReject: (issues) => {
        Object.assign(status, { rejected: issues, rejectedAt: new Date().toISOString() });
        opts.log.error({ issues: issues.map(formatIssue) }, "config rejected; the last good config keeps serving");
        opts.log.flush?.();
      },
      onRestored: (info) => {
        // The source is back to what is live: the rejection no longer describes it (nothing to re-apply).
        Object.assign(status, { rejected: [], rejectedAt: undefined });
        opts.log.info({ version: info.version, source: info.source }, "config back to the live version; rejection cleared");
        opts.log.flush?.();
      },
    });
  });
}
