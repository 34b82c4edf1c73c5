// One HTTP/1.1 connection the relay forwards on, one exchange at a time: to the app (owned by an inbound mesh
// connection) or to an upstream (pooled; mTLS with the server's SPIFFE id checked before any request byte is sent).
import type { Socket, TLSOptions } from "bun";
import type { UpstreamErrorKind } from "../../shared/types.ts";
import { SocketWriter } from "./socket-writer.ts";

/** The exchange in progress: it gets the connection's bytes, its drain and its close. */
export type AppSink = {
  onAppData(d: Buffer): void;
  onAppDrain(): void;
  /** `err` undefined: closed cleanly (which may still be mid-response). `kind`: the connection was never usable. */
  onAppClose(err: Error | undefined, kind?: UpstreamErrorKind): void;
};

/** mTLS towards a mesh upstream: the options (rejectUnauthorized false: see the handshake), and the check of the server's leaf (undefined = accepted). */
export type LinkTls = { readonly options: TLSOptions; readonly verify: (der: Uint8Array | undefined) => string | undefined };

type LinkData = { link: AppLink };

/** The one handshake error a mesh connection expects: the leaf names no host (identity is the SPIFFE id). */
const HOSTNAME_ONLY = "ERR_TLS_CERT_ALTNAME_INVALID";

// Below Node's default server keepAliveTimeout (5 s): we close an idle connection before the app does, so a request
// never races the app's idle close (the same bound as the plain client's pool).
export const APP_IDLE_MS = 4000;

export class AppLink {
  private sock: Socket<LinkData> | undefined;
  /** Set once the connection is usable: after open (plain) or after the server's identity was accepted (mTLS). */
  private writer: SocketWriter | undefined;
  /** Bytes written before the connection is usable; sent then. */
  private early: Uint8Array[] = [];
  private connecting = false;
  /** Which connect attempt is current: a late callback of an abandoned one is ignored. */
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private paused = false;
  sink: AppSink | undefined;
  /** Responses completed on the current socket: a reused one may have been closed by the peer a moment ago. */
  served = 0;
  idleSince = performance.now();

  constructor(
    readonly target: { readonly address: string; readonly port: number },
    private readonly tls?: LinkTls,
    private readonly connectTimeoutMs = 2000,
  ) {}

  get open(): boolean {
    return this.sock !== undefined || this.connecting;
  }

  /** Bytes to send; copied when they must wait (the caller's buffer may be a socket read buffer). False = backlogged. */
  write(data: Uint8Array): boolean {
    return this.writeRange(data, 0, data.length);
  }

  /** write() for `data[from..to)`. */
  writeRange(data: Uint8Array, from: number, to: number): boolean {
    if (this.writer !== undefined) return this.writer.writeRange(data, from, to);
    this.early.push(Uint8Array.prototype.slice.call(data, from, to));
    if (!this.connecting) this.connect();
    return true;
  }

  pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.sock?.pause();
    }
  }

  resume(): void {
    if (this.paused) {
      this.paused = false;
      this.sock?.resume();
    }
  }

  /** Ends the current socket (the next write opens a new one). The sink is not told: the caller chose this. */
  close(): void {
    const s = this.sock;
    this.detach();
    this.early = [];
    s?.terminate();
  }

  private detach(): void {
    this.attempt++;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.sock = undefined;
    this.writer?.onClose(new Error("connection closed"));
    this.writer = undefined;
    this.connecting = false;
    this.served = 0;
    this.paused = false;
  }

  /** The connection can carry bytes: flush what waited. */
  private ready(s: Socket<LinkData>): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.connecting = false;
    this.writer = new SocketWriter(s as Socket<unknown>);
    if (this.paused) s.pause();
    const early = this.early;
    this.early = [];
    for (const b of early) this.writer.write(b);
  }

  private connect(): void {
    this.connecting = true;
    const link = this;
    const attempt = ++this.attempt;
    const where = `${this.target.address}:${this.target.port}`;
    const failed = (err: Error, kind: UpstreamErrorKind): void => {
      if (attempt !== link.attempt || !link.connecting) return;
      const s = link.sock;
      link.detach();
      link.early = [];
      s?.terminate();
      link.sink?.onAppClose(err, kind);
    };
    this.timer = setTimeout(() => failed(new Error(`connect to ${where} timed out after ${this.connectTimeoutMs} ms`), "connect-failure"), this.connectTimeoutMs);
    Bun.connect<LinkData>({
      hostname: this.target.address,
      port: this.target.port,
      data: { link },
      tls: this.tls?.options,
      socket: {
        binaryType: "buffer",
        open(s) {
          if (attempt !== link.attempt || !link.connecting) return void s.terminate(); // closed while connecting
          link.sock = s;
          s.setNoDelay(true);
          if (link.tls === undefined) link.ready(s);
        },
        handshake(s, success, authError) {
          if (attempt !== link.attempt || link.tls === undefined) return;
          // Bun.connect checks the hostname and has no checkServerIdentity hook, and mesh leaves carry only a URI SAN, so
          // the connection is kept (rejectUnauthorized: false) and judged here: the chain must have verified against our
          // bundle (the only error allowed is the hostname one, which OpenSSL reports only for a chain that verified),
          // and the leaf must be the destination's SVID. Nothing is sent before that.
          const chainOk = authError === undefined || authError === null || (authError as { code?: string }).code === HOSTNAME_ONLY;
          if (!chainOk) return failed(new Error(`TLS handshake with ${where} failed: ${authError?.message ?? "not authorized"}`), "connect-failure");
          const why = link.tls.verify(s.getPeerX509Certificate()?.raw);
          if (why !== undefined) return failed(new Error(why), "identity-mismatch");
          link.ready(s);
        },
        data(s, d) {
          if (s === link.sock) link.sink?.onAppData(d);
        },
        drain(s) {
          if (s !== link.sock) return;
          link.writer?.onDrain();
          link.sink?.onAppDrain();
        },
        close(s, err) {
          if (s !== link.sock) return;
          if (link.connecting) return failed(err ?? new Error(`${where} closed the connection during the handshake`), "connect-failure");
          link.detach();
          link.sink?.onAppClose(err);
        },
        connectError(_s, err) {
          failed(new Error(`connect to ${where} failed: ${err.message}`), "connect-failure");
        },
      },
      // Bun reports a refused connect through connectError and also rejects; only the first one counts.
    }).catch((err: unknown) => failed(new Error(`connect to ${where} failed: ${err instanceof Error ? err.message : String(err)}`), "connect-failure"));
  }
}
