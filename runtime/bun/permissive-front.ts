// The permissive inbound port: its first byte tells a TLS handshake (0x16) from plaintext. TLS connections are relayed to
// the server's own strict listener on loopback; plaintext HTTP/1.1 runs here, with no identity.

import type { Socket, SocketHandler, TCPSocketListener, TCPSocketListenOptions } from "bun";
import { Http1Connection, type ConnectionHandler, type ConnectionHost } from "./http1-connection.ts";
import type { ConnectionSet } from "./connection-set.ts";
import { TlsRelay } from "./permissive-relay.ts";

/** The content type of a TLS handshake record: every TLS ClientHello starts with it, no HTTP request line can. */
const TLS_HANDSHAKE = 0x16;

type FrontData = { conn: Http1Connection | undefined; relay: TlsRelay | undefined; timer: ReturnType<typeof setTimeout> | undefined };

export type PermissiveFrontOptions = {
  hostname: string;
  port: number;
  /** The strict listener on loopback that terminates this front's TLS connections. */
  tlsPort: number;
  /** The server's connections: plaintext ones join it for the timeout sweep, in-flight count and drain. */
  set: ConnectionSet;
  /** Requests from plaintext callers. */
  handler: ConnectionHandler;
  onRefused?: (reason: string) => void;
};

export type PermissiveFront = {
  readonly port: number;
  /** Connections still open (plaintext, relayed, or not yet told apart). */
  connections(): number;
  /** Stops accepting. Plaintext connections then close once idle (after the request in flight); relayed ones run on. */
  retire(): void;
  /** Force-closes every connection this front still holds. */
  destroy(): void;
};

export function startPermissiveFront(opts: PermissiveFrontOptions): PermissiveFront {
  const { set } = opts;
  const sockets = new Set<Socket<FrontData>>();
  const plain = new Set<Http1Connection>();
  let retired = false;
  // A plaintext connection takes no further request once this front is retired (the service left permissive).
  const host: ConnectionHost = { ...set.host, draining: () => retired || set.draining() };

  const start = (s: Socket<FrontData>, first: Buffer): void => {
    s.setNoDelay(true);
    if (first[0] === TLS_HANDSHAKE) {
      // A relay cut by shutdown is not news; one that fails while serving is.
      s.data.relay = new TlsRelay(s as Socket<unknown>, opts.tlsPort, first, (reason) => void (set.draining() || opts.onRefused?.(reason)));
      return;
    }
    const conn = new Http1Connection(s as Socket<unknown>, opts.handler, host);
    s.data.conn = conn;
    set.add(conn);
    plain.add(conn);
    conn.onData(first);
  };

  const handlers: SocketHandler<FrontData> = {
    binaryType: "buffer",
    open(s) {
      s.data = { conn: undefined, relay: undefined, timer: undefined };
      if (retired || set.draining()) return void s.terminate();
      sockets.add(s);
      // A caller that connects and says nothing gets the same time as one that never finishes its request head.
      s.data.timer = setTimeout(() => s.terminate(), set.host.limits.headerTimeoutMs);
    },
    data(s, d) {
      const { conn, relay } = s.data;
      if (conn !== undefined) return conn.onData(d as Buffer);
      if (relay !== undefined) return relay.fromFront(d as Buffer);
      clearTimeout(s.data.timer);
      s.data.timer = undefined;
      if (set.draining()) return void s.terminate();
      start(s, d as Buffer);
    },
    drain(s) {
      s.data.conn?.onDrain();
      s.data.relay?.frontDrained();
    },
    close(s) {
      clearTimeout(s.data.timer);
      sockets.delete(s);
      const c = s.data.conn;
      if (c !== undefined) {
        c.onClose();
        set.remove(c);
        plain.delete(c);
      }
      s.data.relay?.frontClosed();
    },
    error(s) {
      s.data.conn?.destroy();
      s.data.relay?.destroy();
    },
  };

  // reusePort: the front and the strict listener take turns on one port when the mode changes (inbound-server.ts).
  const options: TCPSocketListenOptions<FrontData> & { reusePort: boolean } = {
    hostname: opts.hostname,
    port: opts.port,
    reusePort: true,
    data: { conn: undefined, relay: undefined, timer: undefined },
    socket: handlers,
  };
  const listener: TCPSocketListener<FrontData> = Bun.listen<FrontData>(options);

  return {
    port: listener.port,
    connections: () => sockets.size,
    retire() {
      if (retired) return;
      retired = true;
      listener.stop(false);
      for (const c of plain) c.closeIfIdle();
    },
    destroy() {
      retired = true;
      listener.stop(true);
      for (const s of sockets) s.terminate();
      sockets.clear();
      plain.clear();
    },
  };
}
