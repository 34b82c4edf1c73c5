// One plain connection to the app, owned by one inbound mesh connection: the relay's requests go out on it one at a
// time (as they arrive on the mesh connection), so no pool is needed. Opened on first use and again after a close.
import type { Socket } from "bun";
import { SocketWriter } from "./socket-writer.ts";

/** The exchange in progress: it gets the app's bytes, its drain and its close. */
export type AppSink = {
  onAppData(d: Buffer): void;
  onAppDrain(): void;
  /** `err` undefined: the app closed the connection cleanly (which may still be mid-response). */
  onAppClose(err: Error | undefined, connectFailed?: boolean): void;
};

type LinkData = { link: AppLink };

// Below Node's default server keepAliveTimeout (5 s): we close an idle connection before the app does, so a request
// never races the app's idle close (the same bound as the plain client's pool).
export const APP_IDLE_MS = 4000;

export class AppLink {
  private sock: Socket<LinkData> | undefined;
  private writer: SocketWriter | undefined;
  /** Bytes written while the connection is being made; sent on open. */
  private early: Uint8Array[] = [];
  private connecting = false;
  /** Which connect attempt is current: a late callback of an abandoned one is ignored. */
  private attempt = 0;
  private paused = false;
  sink: AppSink | undefined;
  /** Responses completed on the current socket: a reused one may have been closed by the app a moment ago. */
  served = 0;
  idleSince = performance.now();

  constructor(private readonly app: { readonly address: string; readonly port: number }) {}

  get open(): boolean {
    return this.sock !== undefined || this.connecting;
  }

  /** Bytes for the app; copied when they must wait (the caller's buffer may be a socket read buffer). False = backlogged. */
  write(data: Uint8Array): boolean {
    if (this.writer !== undefined) return this.writer.writeBorrowed(data);
    this.early.push(Uint8Array.prototype.slice.call(data));
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
    this.sock = undefined;
    this.writer?.onClose(new Error("app connection closed"));
    this.writer = undefined;
    this.connecting = false;
    this.served = 0;
    this.paused = false;
  }

  private connect(): void {
    this.connecting = true;
    const link = this;
    const attempt = ++this.attempt;
    const failed = (err: Error): void => {
      if (attempt !== link.attempt || !link.connecting) return;
      link.detach();
      link.early = [];
      link.sink?.onAppClose(err, true);
    };
    Bun.connect<LinkData>({
      hostname: this.app.address,
      port: this.app.port,
      data: { link },
      socket: {
        binaryType: "buffer",
        open(s) {
          if (attempt !== link.attempt || !link.connecting) return void s.terminate(); // closed while connecting
          link.connecting = false;
          link.sock = s;
          link.writer = new SocketWriter(s as Socket<unknown>);
          s.setNoDelay(true);
          if (link.paused) s.pause();
          const early = link.early;
          link.early = [];
          for (const b of early) link.writer.write(b);
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
          link.detach();
          link.sink?.onAppClose(err);
        },
        connectError(_s, err) {
          failed(new Error(`connect to ${link.app.address}:${link.app.port} failed: ${err.message}`));
        },
      },
      // Bun reports a refused connect through connectError and also rejects; only the first one counts.
    }).catch((err: unknown) => failed(new Error(`connect to ${link.app.address}:${link.app.port} failed: ${err instanceof Error ? err.message : String(err)}`)));
  }
}
