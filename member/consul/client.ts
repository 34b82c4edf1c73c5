// The one way this project talks to Consul: the `consul` npm client (2.0.1), one instance per agent address and
// token, shared by every caller in the process. Lives in member/ because the client sits on node:http.
import Consul from "consul";
import type { EventEmitter } from "node:events";

// The client's own typings leave out options its README documents for every call (ctx, timeout, index, wait)
// and KV's `buffer`; declared here so callers stay typed instead of casting.
declare module "consul/lib/consul" {
  interface CommonOptions {
    /** Emit "cancel" to abort the call; `includeResponse` gives the response form `[res, body]`. */
    ctx?: EventEmitter;
    /** Milliseconds; 0 = none (blocking reads bring their own). */
    timeout?: number;
    index?: string;
    wait?: string;
  }
}
declare module "consul/lib/kv" {
  interface GetOptions {
    token?: string;
    ctx?: EventEmitter;
    timeout?: number;
    index?: string;
    wait?: string;
    /** Leave each Value as bytes (a Buffer) instead of decoding it as UTF-8. */
    buffer?: boolean;
  }
  interface SetOptions {
    timeout?: number;
  }
  interface DelOptions {
    timeout?: number;
  }
}

export type ConsulClient = Consul;

/** One-shot calls give up after this; blocking reads pass their own timeout (see blocking-read.ts). */
export const CONSUL_CALL_TIMEOUT_MS = 5000;

// Shared so a member keeps one keep-alive pool per agent (KV watch, health watches, registration, status report).
// The client's `Watch` helper is never used: shared/discovery/blocking.ts paces blocking reads (blocking-read.ts).
const clients = new Map<string, Consul>();

/** `address` like http://127.0.0.1:8500 (member/flags.ts consulAddr); `token` is sent as X-Consul-Token. */
export function consulClient(address: string, token: string | undefined = process.env.CONSUL_HTTP_TOKEN): ConsulClient {
  const key = `${address}\n${token ?? ""}`;
  let client = clients.get(key);
  if (client === undefined) {
    // baseUrl and timeout are papi options the client passes through (its README: "Advanced options"), untyped there.
    const options: ConstructorParameters<typeof Consul>[0] & { baseUrl: string; timeout: number } = {
      baseUrl: `${address.replace(/\/+$/, "")}/v1`,
      timeout: CONSUL_CALL_TIMEOUT_MS,
      ...(token === undefined || token === "" ? {} : { defaults: { token } }),
    };
    client = new Consul(options);
    clients.set(key, client);
  }
  return client;
}

/** The HTTP status of a call Consul answered with an error, or undefined when it never answered (unreachable). */
export function consulStatus(err: unknown): number | undefined {
  const e = err as { isResponse?: boolean; response?: { statusCode?: number } } | null | undefined;
  return e?.isResponse === true ? e.response?.statusCode : undefined;
}
