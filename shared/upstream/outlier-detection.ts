// Envoy-style outlier detection for one cluster: consecutive 5xx / gateway errors eject an endpoint for a growing time.
// Passive health checking: fed by every attempt's outcome, read by the balancer through excluded() on every pick.

export type OutlierConfig = {
  /** Eject after N consecutive 5xx; local-origin failures (connect-failure, reset, timeout) count too. undefined = off. */
  readonly consecutive5xx: number | undefined;
  /** Eject after N consecutive 502/503/504 or local-origin failures. undefined = off. */
  readonly consecutiveGatewayErrors: number | undefined;
  /** Sweep period: returns endpoints whose time is up and decays the multiplier of those not ejected. */
  readonly intervalMs: number;
  /** Ejection time = baseEjectionMs * multiplier, capped at maxEjectionMs. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  /** Ejected/all stays <= this %, except that one endpoint may be ejected when none is (Envoy), if > 0. */
  readonly maxEjectionPercent: number;
  /** Panic: when fewer than this % of the endpoints are not ejected, ejections are ignored (excluded() is empty). */
  readonly minHealthPercent: number;
};

export type AttemptOutcome = "success" | "connect-failure" | "reset" | "timeout" | "http-5xx";

export type OutlierDetector = {
  /** Live reconfiguration: counters, multipliers and current ejections (with their end times) are kept. */
  configure(c: OutlierConfig): void;
  /** One attempt's result. O(1), allocation-free unless it ejects. Unknown ids (not in setEndpoints) are ignored. */
  report(id: string, outcome: AttemptOutcome, status: number | undefined): void;
  /** The cluster's endpoints changed: state of ids gone is forgotten, the rest kept, new ids start clean. */
  setEndpoints(ids: readonly string[]): void;
  /** Ids to keep out of balancing now; empty when panicking or nothing is ejected. A snapshot: re-read after onChange. */
  excluded(): ReadonlySet<string>;
  stats(): { ejectionsTotal: number; ejected: number; panic: boolean; endpoints: number };
  /** Called synchronously whenever excluded() changes: ejection, return, removal of an ejected id, panic enter/leave. */
  onChange(fn: () => void): void;
  /** Clears the timer; the detector is inert afterwards (reports are ignored). */
  stop(): void;
};

export type OutlierDeps = {
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (t: unknown) => void;
};

type State = {
  consecutive5xx: number;
  consecutiveGateway: number;
  /** Times base ejection; +1 per ejection (bounded, see eject), -1 per sweep that finds the endpoint in. */
  multiplier: number;
  /** When the ejection ends; undefined while the endpoint is in. */
  until: number | undefined;
};

const EMPTY: ReadonlySet<string> = new Set();

function defaultSetTimer(fn: () => void, ms: number): unknown {
  const t = setTimeout(fn, ms);
  // A pending sweep must never be what keeps the program running.
  (t as { unref?: () => void }).unref?.();
  return t;
}

export function createOutlierDetector(c: OutlierConfig, deps: OutlierDeps = {}): OutlierDetector {
  const now = deps.now ?? (() => performance.now());
  const setTimer = deps.setTimer ?? defaultSetTimer;
  const clearTimer = deps.clearTimer ?? ((t: unknown) => clearTimeout(t as ReturnType<typeof setTimeout>));
  let config = c;
  const states = new Map<string, State>();
  const ejectedIds = new Set<string>();
  /** Endpoints with multiplier > 0: the sweep timer runs exactly while this is non-zero. */
  let backedOff = 0;
  let ejectionsTotal = 0;
  let panic = false;
  let current: ReadonlySet<string> = EMPTY;
  let timer: unknown = undefined;
  let stopped = false;
  const listeners: (() => void)[] = [];

  const isPanic = (): boolean => {
    const total = states.size;
    return total > 0 && (total - ejectedIds.size) * 100 < config.minHealthPercent * total;
  };

  /** Recomputes panic and the excluded() snapshot; fires listeners only when what excluded() returns changed. */
  function refresh(ejectedChanged: boolean): void {
    const nextPanic = isPanic();
    if (nextPanic === panic && (panic || !ejectedChanged)) return;
    panic = nextPanic;
    current = panic || ejectedIds.size === 0 ? EMPTY : new Set(ejectedIds);
    for (const fn of listeners) fn();
  }

  function arm(): void {
    if (timer === undefined && !stopped && backedOff > 0) timer = setTimer(sweep, config.intervalMs);
  }

  function disarm(): void {
    if (timer !== undefined) clearTimer(timer);
    timer = undefined;
  }

  // Envoy's interval timer: ejected endpoints come back at the first sweep at or after their end time (so up to one
  // interval late), and an endpoint found in has its multiplier lowered, so a host that stays healthy is forgiven.
  function sweep(): void {
    timer = undefined;
    const t = now();
    let returned = false;
    for (const [id, s] of states) {
      if (s.until === undefined) {
        if (s.multiplier > 0 && --s.multiplier === 0) backedOff--;
      } else if (t >= s.until) {
        s.until = undefined;
        s.consecutive5xx = 0;
        s.consecutiveGateway = 0;
        ejectedIds.delete(id);
        returned = true;
      }
    }
    arm();
    if (returned) refresh(true);
  }

  function mayEject(): boolean {
    const pct = config.maxEjectionPercent;
    if (pct <= 0) return false;
    // Envoy ejects one endpoint whatever the percentage allows; panic then decides whether it is avoided.
    return ejectedIds.size === 0 || (ejectedIds.size + 1) * 100 <= pct * states.size;
  }

  function eject(id: string, s: State): void {
    if (!mayEject()) return; // counters stay at the threshold: the next failure tries again
    const { baseEjectionMs: base, maxEjectionMs: max } = config;
    // Envoy stops growing the multiplier once it reaches the cap, so decay back to zero takes bounded time.
    if (s.multiplier === 0) backedOff++;
    if (s.multiplier === 0 || base * s.multiplier < max) s.multiplier++;
    s.until = now() + Math.min(base * s.multiplier, Math.max(base, max));
    s.consecutive5xx = 0;
    s.consecutiveGateway = 0;
    ejectedIds.add(id);
    ejectionsTotal++;
    arm();
    refresh(true);
  }

  return {
    configure(next) {
      const intervalChanged = next.intervalMs !== config.intervalMs;
      config = next;
      if (intervalChanged && timer !== undefined) {
        disarm();
        arm();
      }
      refresh(false); // minHealthPercent may have moved the panic line
    },
    report(id, outcome, status) {
      if (stopped) return;
      const s = states.get(id);
      // Attempts still in flight when an endpoint was ejected end later; they say nothing new about it.
      if (s === undefined || s.until !== undefined) return;
      let is5xx: boolean;
      let isGateway: boolean;
      if (outcome === "connect-failure" || outcome === "reset" || outcome === "timeout") {
        is5xx = isGateway = true; // local-origin failures count as both, as in Envoy without split local/external errors
      } else if (status !== undefined) {
        is5xx = status >= 500 && status <= 599;
        isGateway = status === 502 || status === 503 || status === 504;
      } else {
        is5xx = outcome === "http-5xx";
        isGateway = false;
      }
      if (!is5xx) {
        s.consecutive5xx = 0;
        s.consecutiveGateway = 0;
        return;
      }
      s.consecutive5xx++;
      // A plain 500 breaks a run of gateway errors, as in Envoy.
      s.consecutiveGateway = isGateway ? s.consecutiveGateway + 1 : 0;
      const max5xx = config.consecutive5xx;
      const maxGateway = config.consecutiveGatewayErrors;
      if ((max5xx !== undefined && s.consecutive5xx >= max5xx) || (maxGateway !== undefined && s.consecutiveGateway >= maxGateway)) eject(id, s);
    },
    setEndpoints(ids) {
      const keep = new Set(ids);
      let ejectedChanged = false;
      for (const [id, s] of states) {
        if (keep.has(id)) continue;
        if (s.multiplier > 0) backedOff--;
        if (ejectedIds.delete(id)) ejectedChanged = true;
        states.delete(id);
      }
      for (const id of keep) if (!states.has(id)) states.set(id, { consecutive5xx: 0, consecutiveGateway: 0, multiplier: 0, until: undefined });
      if (backedOff === 0) disarm();
      refresh(ejectedChanged);
    },
    excluded() {
      return current;
    },
    stats() {
      return { ejectionsTotal, ejected: ejectedIds.size, panic, endpoints: states.size };
    },
    onChange(fn) {
      listeners.push(fn);
    },
    stop() {
      stopped = true;
      disarm();
    },
  };
}
