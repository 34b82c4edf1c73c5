// The observation hook: the core emits one event per downstream request and one per upstream attempt; access log,
// metrics and tracing subscribe. Emitters check `wants*` first, so with nobody subscribed no event is even built.
import type { AttemptEvent, HopTrace } from "../types.ts";

export type { AttemptEvent };

export type RequestEvent = {
  readonly listener: string; // "gateway/<listener>", "outbound", "inbound"
  readonly method: string;
  /** Path + query as the listener saw it (logs only: never a metric label). */
  readonly path: string;
  readonly status: number;
  /** Why the mesh answered itself (x-mesh-error), e.g. no-route, timeout; undefined when the upstream answered. */
  readonly cause: string | undefined;
  readonly requestId: string;
  readonly startedAt: number; // performance.now() at arrival
  readonly durationMs: number; // until the response head was ready
  readonly route: string | undefined;
  readonly cluster: string | undefined;
  readonly endpoint: string | undefined;
  readonly attempts: number;
  /** Caller identity from the verified peer certificate (inbound), when there is one. */
  readonly peer: string | undefined;
  /** The inbound authorization verdict when a policy decided: rule name, or "default". */
  readonly authz: { readonly allowed: boolean; readonly rule: string } | undefined;
  readonly bytesIn: number | undefined; // declared request body length
  readonly bytesOut: number | undefined; // declared response body length
  /** What fault injection did to the request, if anything. */
  readonly fault?: "delay" | "abort" | "delay+abort" | undefined;
  /** This hop's span when the request is part of a trace (sampled or not): ids for logs, the span for tracing. */
  readonly trace?: HopTrace;
};

export type Observer = { request?(e: RequestEvent): void; attempt?(e: AttemptEvent): void };

export type Observation = {
  /** True while someone listens for request events: emitters skip building events otherwise. */
  readonly wantsRequests: boolean;
  readonly wantsAttempts: boolean;
  request(e: RequestEvent): void;
  attempt(e: AttemptEvent): void;
  /** Returns the unsubscribe function. */
  subscribe(o: Observer): () => void;
};

export function createObservation(): Observation {
  let requestSubs: Array<(e: RequestEvent) => void> = [];
  let attemptSubs: Array<(e: AttemptEvent) => void> = [];
  const hub: Observation = {
    wantsRequests: false,
    wantsAttempts: false,
    request(e) {
      for (const f of requestSubs) f(e);
    },
    attempt(e) {
      for (const f of attemptSubs) f(e);
    },
    subscribe(o) {
      const r = o.request?.bind(o);
      const a = o.attempt?.bind(o);
      if (r) requestSubs = [...requestSubs, r];
      if (a) attemptSubs = [...attemptSubs, a];
      sync();
      return () => {
        requestSubs = requestSubs.filter((f) => f !== r);
        attemptSubs = attemptSubs.filter((f) => f !== a);
        sync();
      };
    },
  };
  const sync = (): void => {
    (hub as { wantsRequests: boolean }).wantsRequests = requestSubs.length > 0;
    (hub as { wantsAttempts: boolean }).wantsAttempts = attemptSubs.length > 0;
  };
  return hub;
}

/** For callers (tests, tools) that run the core without observers; subscribing to it is a mistake. */
export const NO_OBSERVATION: Observation = {
  wantsRequests: false,
  wantsAttempts: false,
  request() {},
  attempt() {},
  subscribe() {
    throw new Error("NO_OBSERVATION takes no subscribers: create one with createObservation()");
  },
};
