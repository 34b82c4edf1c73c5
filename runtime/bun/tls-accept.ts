// What the TLS listeners (inbound mTLS, the CA) share: a plain listening socket whose accepted sockets are upgraded
// with the TLS settings of that moment, bytes held until the handshake verdict, then one HTTP/1.1 connection each.
import type { Socket, SocketHandler, TLSOptions } from "bun";
import { Http1Connection, type ConnectionHandler } from "./http1-connection.ts";
import { connectionEvents, type ConnectionSet } from "./connection-set.ts";
import type { HandshakeDeadline } from "./handshake-deadline.ts";
import type { RelayStarter } from "./inbound-relay.ts";
import type { PipeLink } from "./tcp-pipe.ts";

// `early` holds bytes that arrive before the handshake callback: under load Bun can deliver the client's
// first request (sent right behind its TLS 1.3 Finished) before it reports the handshake.
// `l4` is set instead of `conn` on a connection carried at L4 (tcp-inbound.ts): its bytes go to the pipe unparsed.
export type TlsSocketData = { conn: Http1Connection | undefined; early: Buffer[] | undefined; l4?: PipeLink };

/**
 * The plain listener's handler: each accepted socket is upgraded with `tls()` as it is now, so new credentials never
 * mean a new listening socket (closing one resets the connections still in its accept queue: ~1 in 300 new
 * connections during a swap, measured). The handshake gets the header timeout; the parser's timers start after it.
 */
export function upgradingAccept(o: { set: ConnectionSet; handshakes: HandshakeDeadline; tls: () => TLSOptions; socket: SocketHandler<TlsSocketData> }): SocketHandler<undefined> {
  return {
    open(raw) {
      if (o.set.draining()) return raw.terminate();
      const [, s] = raw.upgradeTLS<TlsSocketData>({ data: { conn: undefined, early: undefined }, tls: o.tls(), socket: o.socket });
      o.handshakes.add(s);
    },
    data() {},
    close() {},
  };
}

/** The TLS socket's handlers other than `handshake`; `tooEarly` runs when held bytes pass `maxEarlyBytes`. */
export function tlsSocketEvents(o: { set: ConnectionSet; handshakes: HandshakeDeadline; maxEarlyBytes: number; tooEarly: (s: Socket<TlsSocketData>) => void }) {
  const events = connectionEvents<TlsSocketData>(o.set);
  return {
    binaryType: "buffer" as const,
    open(s: Socket<TlsSocketData>): void {
      s.data ??= { conn: undefined, early: undefined };
    },
    data(s: Socket<TlsSocketData>, d: Buffer): void {
      const c = s.data.conn;
      if (c) return c.onData(d);
      const l4 = s.data.l4;
      if (l4) return l4.pipe.data(l4.side, d);
      // Not verified yet: hold the bytes (bounded), never parse them before the handshake's verdict.
      const early = (s.data.early ??= []);
      early.push(Buffer.from(d));
      if (early.reduce((n, b) => n + b.length, 0) > o.maxEarlyBytes) o.tooEarly(s);
    },
    ...events,
    drain(s: Socket<TlsSocketData>): void {
      const l4 = s.data.l4;
      if (l4) l4.pipe.drain(l4.side);
      else events.drain(s);
    },
    // On a half-open listener (one with an L4 hook) a FIN no longer closes the socket by itself: HTTP/1.1 still closes there.
    end(s: Socket<TlsSocketData>): void {
      const l4 = s.data.l4;
      if (l4) l4.pipe.end(l4.side);
      else s.end();
    },
    close(s: Socket<TlsSocketData>): void {
      o.handshakes.done(s); // a socket that closed mid-handshake
      const l4 = s.data.l4;
      if (l4) l4.pipe.close(l4.side);
      else events.close(s);
    },
  };
}

/** HTTP/1.1 on a socket whose handshake passed: the connection joins the set and gets the bytes held so far. */
export function startConnection(s: Socket<TlsSocketData>, set: ConnectionSet, handle: ConnectionHandler, relay?: RelayStarter): void {
  const conn = new Http1Connection(s as Socket<unknown>, handle, set.host, relay);
  s.data.conn = conn;
  set.add(conn);
  const early = s.data.early;
  s.data.early = undefined;
  if (early) for (const b of early) conn.onData(b);
}
