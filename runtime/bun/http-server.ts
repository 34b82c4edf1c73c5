// The gateway's and the outbound sidecar's listener: plain HTTP/1.1 (or TLS with a server certificate) on our own
// parser, so every listener refuses ambiguous requests the same way and enforces header and body timeouts itself.

import type { Socket, SocketHandler, TCPSocketListenOptions } from "bun";
import { Http1Connection } from "./http1-connection.ts";
import { connectionEvents, createConnectionSet } from "./connection-set.ts";
import type { InboundLimits } from "../ports.ts";
import type { RelayStarter } from "./inbound-relay.ts";

export type HttpServerOptions = {
  hostname: string;
  port: number;
  /** PEM server certificate chain and key: HTTPS without client certificates (the gateway's edge). */
  tls?: { cert: string; key: string };
  limits: InboundLimits;
  /** `remoteAddress` is the downstream's IP, for X-Forwarded-For; `target` the path + query as received. */
  handler: (req: Request, remoteAddress: string, target: string) => Promise<Response>;
  /** The fast path, offered each request head before `handler` (one starter per connection, given its address). */
  relay?: (remoteAddress: string) => RelayStarter;
};

export type HttpServer = {
  readonly port: number;
  readonly hostname: string;
  inFlight(): number;
  close(opts: { drainMs: number }): Promise<void>;
};

type SocketData = { conn: Http1Connection | undefined };

export function startHttpServer(opts: HttpServerOptions): HttpServer {
  const set = createConnectionSet(opts.limits);
  const accept = (s: Socket<SocketData>): void => {
    if (set.draining()) return void s.terminate();
    s.setNoDelay(true);
    const remote = s.remoteAddress;
    const conn = new Http1Connection(s as Socket<unknown>, (req, target) => opts.handler(req, remote, target), set.host, opts.relay?.(remote));
    s.data.conn = conn;
    set.add(conn);
  };
  const handlers: SocketHandler<SocketData> = {
    binaryType: "buffer",
    open(s) {
      s.data = { conn: undefined };
      // No client identity to wait for: decrypted bytes only ever arrive after the handshake anyway.
      accept(s);
    },
    handshake(s, success) {
      if (!success) s.terminate();
    },
    data(s, d) {
      s.data.conn?.onData(d as Buffer);
    },
    ...connectionEvents<SocketData>(set),
  };
  const options: TCPSocketListenOptions<SocketData> = {
    hostname: opts.hostname,
    port: opts.port,
    data: { conn: undefined },
    tls: opts.tls === undefined ? undefined : { cert: opts.tls.cert, key: opts.tls.key },
    socket: handlers,
  };
  const listener = Bun.listen<SocketData>(options);
  return {
    port: listener.port,
    hostname: listener.hostname,
    inFlight: () => set.inFlight(),
    async close({ drainMs }) {
      if (set.draining()) return;
      listener.stop(false);
      await set.drain(drainMs);
      listener.stop(true);
    },
  };
}
