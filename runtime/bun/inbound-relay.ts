// The inbound fast path's per-connection part: each mesh connection gets one app connection, and each request head is
// offered to the core's planner; a plan means the request is relayed, none means the full (Request/Response) path.
import { emitRelayed } from "../../shared/proxy/inbound-relay-plan.ts";
import type { InboundRelay } from "../ports.ts";
import { AppLink, APP_IDLE_MS } from "./app-link.ts";
import { RelayExchange, type RelayIo, type RelayLike } from "./relay-exchange.ts";
import type { RequestHead } from "./http1-head.ts";

/** One mesh connection's side of the relay (Http1Connection calls it). */
export type RelayStarter = {
  /** The exchange that took the request, or undefined: the full path handles it. */
  start(head: RequestHead, io: RelayIo): RelayLike | undefined;
  /** The connection is idle: close an app connection idle for longer than the app would keep it. */
  idle(now: number): void;
  close(): void;
};

export function relayStarter(r: InboundRelay, peer: string | undefined): RelayStarter {
  let link: AppLink | undefined;
  return {
    start(head, io) {
      const plan = r.planner(head, peer);
      if (plan === undefined) return undefined;
      link ??= new AppLink(r.app);
      const observe = r.observe;
      return new RelayExchange({ link, plan, req: head, io, emit: (status, cause, bytesOut) => {
        // Status 0: the caller went away before any answer; nothing was served to record.
        if (status === 0 || !observe.wantsRequests) return;
        const f = head.framing;
        const bytesIn = f.kind === "length" ? f.length : undefined;
        emitRelayed(observe, plan, { method: head.method, target: head.target, peer, status, cause, headAt: performance.now(), bytesIn, bytesOut });
      } });
    },
    idle(now) {
      if (link?.open === true && link.sink === undefined && now - link.idleSince > APP_IDLE_MS) link.close();
    },
    close() {
      link?.close();
    },
  };
}
