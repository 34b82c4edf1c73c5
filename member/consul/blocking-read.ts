// One Consul blocking read through the client, shaped as the `fetchOnce` that shared/discovery/blocking.ts paces:
// per-call index/wait, the response form for X-Consul-Index, 404 as "not found", the loop's signal as ctx "cancel".
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { BlockingAnswer, FetchOnce } from "../../shared/discovery/blocking.ts";

/** What `read` must pass on to the client call: index/wait (only when blocking), the ctx and no client timeout. */
export type BlockingCallOptions = { index?: string; wait?: string; ctx: EventEmitter; timeout: number };

/** `read` is one client call, e.g. `(o) => client.health.service({ service, passing: true, ...o })`. */
export function blockingRead(read: (o: BlockingCallOptions) => Promise<unknown>): FetchOnce {
  return async (index, waitSeconds, signal): Promise<BlockingAnswer> => {
    if (signal.aborted) throw signal.reason;
    // `includeResponse` switches the client to `[res, body]`, the only way to see X-Consul-Index.
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit("cancel");
    signal.addEventListener("abort", cancel, { once: true });
    try {
      // The loop owns the timeout (wait + Consul's jitter + slack), so the client's one-shot timeout is off.
      const blocking = index > 0 ? { index: String(index), wait: `${waitSeconds}s` } : {};
      const [res, body] = (await read({ ...blocking, ctx, timeout: 0 })) as [IncomingMessage, unknown?];
      const raw = res.headers["x-consul-index"];
      const returned = typeof raw === "string" && raw !== "" ? Number(raw) : Number.NaN;
      // The client answers a KV 404 with undefined data; the status tells "not found" from an empty body.
      return res.statusCode === 404 ? { index: returned, notFound: true } : { index: returned, body };
    } finally {
      signal.removeEventListener("abort", cancel);
    }
  };
}
