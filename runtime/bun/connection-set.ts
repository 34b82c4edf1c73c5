// The bookkeeping every HTTP/1.1 listener shares: live connections, in-flight count, drain, and the timeout sweep.
// Listeners differ only in how a socket becomes a connection (plain, TLS, or mTLS with a verified identity).

import type { ConnectionHost, Http1Connection } from "./http1-connection.ts";
import type { InboundLimits } from "../ports.ts";

export type ConnectionSet = {
  readonly host: ConnectionHost;
  add(conn: Http1Connection): void;
  remove(conn: Http1Connection): void;
  readonly draining: () => boolean;
  inFlight(): number;
  /** Stop taking requests, close idle connections, wait for in-flight ones up to drainMs, then destroy the rest. */
  drain(drainMs: number): Promise<void>;
};

export function createConnectionSet(limits: InboundLimits): ConnectionSet {
  const conns = new Set<Http1Connection>();
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const host: ConnectionHost = {
    limits,
    draining: () => draining,
    requestStarted: () => void inFlight++,
    requestEnded: () => {
      inFlight--;
      if (draining && inFlight === 0) drained?.();
    },
  };
  const shortest = Math.min(limits.headerTimeoutMs, limits.idleTimeoutMs, limits.bodyIdleTimeoutMs ?? 10_000, limits.bodyTimeoutMs ?? 60_000);
  const tick = Math.max(25, Math.min(1000, shortest / 4));
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const c of conns) c.checkTimeouts(now);
  }, tick);
  sweep.unref();

  return {
    host,
    add: (c) => void conns.add(c),
    remove: (c) => void conns.delete(c),
    draining: () => draining,
    inFlight: () => inFlight,
    async drain(drainMs) {
      draining = true;
      for (const c of conns) c.closeIfIdle();
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, drainMs);
        });
      }
      clearInterval(sweep);
      for (const c of conns) c.destroy();
      conns.clear();
    },
  };
}

/** The socket events every listener handles the same way once a socket carries a connection. */
export function connectionEvents<D extends { conn: Http1Connection | undefined }>(set: ConnectionSet) {
  return {
    drain(s: { data: D }): void {
      s.data.conn?.onDrain();
    },
    close(s: { data: D }): void {
      const c = s.data.conn;
      if (c) {
        c.onClose();
        set.remove(c);
      }
    },
    error(s: { data: D }): void {
      s.data.conn?.destroy();
    },
  };
}
