// Plaintext HTTP/1.1 client with a keep-alive pool per endpoint: the inbound sidecar's hop to its app and the hop
// to services outside the mesh. Hand-written because Bun's fetch adds User-Agent and Accept that callers never sent.

import type { Socket } from "bun";
import { UpstreamError, type Endpoint } from "../../shared/types.ts";
import type { PlainClient } from "../ports.ts";
import { pathAndQuery } from "../../shared/http/url.ts";

export type { PlainClient };
import { ClientConnection } from "./http1-client-conn.ts";

type SocketData = { conn: ClientConnection | undefined };

// Below Node's default server keepAliveTimeout (5 s), so we close an idle connection before the app does
// (a request racing the app's idle close would otherwise die as a reset).
const IDLE_MS = 4000;
const MAX_IDLE_PER_ENDPOINT = 64;


export function createPlainClient(): PlainClient {
  const idle = new Map<string, ClientConnection[]>();
  let closed = false;
  const sweep = setInterval(() => {
    const cutoff = performance.now() - IDLE_MS;
    for (const [key, list] of idle) {
      const keep = list.filter((c) => {
        if (c.idleSince >= cutoff && c.usable) return true;
        c.destroy(undefined);
        return false;
      });
      if (keep.length === 0) idle.delete(key);
      else idle.set(key, keep);
    }
  }, 1000);
  sweep.unref();

  async function connect(key: string, endpoint: Pick<Endpoint, "address" | "port">, timeoutMs: number, signal: AbortSignal): Promise<ClientConnection> {
    const release = (c: ClientConnection): void => {
      const list = idle.get(key) ?? [];
      if (closed || list.length >= MAX_IDLE_PER_ENDPOINT) return c.destroy(undefined);
      list.push(c);
      idle.set(key, list);
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UpstreamError("connect-failure", `connect to ${endpoint.address}:${endpoint.port} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const sock = await Promise.race([
        Bun.connect<SocketData>({
          hostname: endpoint.address,
          port: endpoint.port,
          data: { conn: undefined },
          socket: {
            binaryType: "buffer",
            data: (s, d) => s.data.conn?.onData(d as Buffer),
            drain: (s) => s.data.conn?.onDrain(),
            close: (s) => s.data.conn?.onClose(),
            error: (s) => s.data.conn?.onClose(),
          },
        }),
        timeout,
      ]);
      if (signal.aborted) {
        sock.terminate();
        throw new UpstreamError("timeout", "upstream request aborted");
      }
      sock.setNoDelay(true);
      const conn = new ClientConnection(sock as Socket<unknown>, release);
      sock.data.conn = conn;
      return conn;
    } catch (e) {
      if (e instanceof UpstreamError) throw e;
      throw new UpstreamError("connect-failure", `connect to ${endpoint.address}:${endpoint.port} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  function pooled(key: string): ClientConnection | undefined {
    const list = idle.get(key);
    while (list !== undefined && list.length > 0) {
      const c = list.pop()!;
      if (c.usable) return c;
    }
    return undefined;
  }

  return {
    async send(endpoint, req, opts) {
      if (closed) throw new UpstreamError("connect-failure", "client is closed");
      opts.signal.throwIfAborted();
      const key = `${endpoint.address}|${endpoint.port}`;
      const path = pathAndQuery(req.url);
      const reused = pooled(key);
      // A pooled connection the app closed a moment ago fails before any response byte: a body-less request goes
      // again on a fresh connection (its bytes can't have been acted on twice: nothing was read back).
      if (reused !== undefined && req.body === null) {
        try {
          return await reused.send(req, path, opts.signal);
        } catch (e) {
          if (opts.signal.aborted || !(e instanceof UpstreamError) || e.kind !== "reset" || !reused.untouchedAtFailure) throw e;
        }
      } else if (reused !== undefined) {
        return reused.send(req, path, opts.signal);
      }
      const conn = await connect(key, endpoint, opts.connectTimeoutMs ?? 2000, opts.signal);
      return conn.send(req, path, opts.signal);
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const list of idle.values()) for (const c of list) c.destroy(undefined);
      idle.clear();
    },
  };
}
