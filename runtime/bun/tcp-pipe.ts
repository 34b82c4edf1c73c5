// One L4 connection: the bytes between a downstream socket (towards the caller) and an upstream socket (towards the
// service), both ways, with backpressure and half-close, never parsed. Shared by the outbound and inbound TCP paths.
import type { Socket, SocketHandler } from "bun";
import type { TcpCounters } from "../ports.ts";

export type PipeSide = "down" | "up";
/** What a piped socket carries as its data: its pipe and which side it is. */
export type PipeLink = { readonly pipe: TcpPipe; readonly side: PipeSide };

/** Bytes held per direction before the pipe opens (the app's first bytes during the mesh handshake); past it, reading pauses. */
export const HOLD_BYTES = 64 * 1024;
/**
 * What an inbound that may carry L4 holds before its handshake callback (Bun can deliver data first): a caller's
 * sidecar sends the bytes it held (HOLD_BYTES plus one read, up to Bun's 512 KiB) at once when it has verified us.
 */
export const L4_EARLY_BYTES = 1024 * 1024;
/** Once one side has closed for good, how long the other may stay half-open before it is cut. */
const LINGER_MS = 10_000;

// A real copy: Bun reuses a socket's read buffer once its data callback returns.
const copyOf = (b: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(b) as Uint8Array;
const other = (s: PipeSide): PipeSide => (s === "down" ? "up" : "down");
type AnySocket = Socket<any>;

/** The write side of one socket: what the kernel did not take waits here, in order, and goes out on drain. */
class Outlet {
  sock: AnySocket | undefined;
  private queue: Uint8Array[] = [];
  queued = 0;
  /** The other side sent FIN: pass it on once the queue is out. */
  finPending = false;
  finished = false;
  closed = false;

  /** False when the source should pause: bytes are waiting (past the hold bound while the pipe is not open). */
  write(d: Uint8Array, open: boolean): boolean {
    if (this.closed || this.finished) return true; // the reader is gone: nothing to wait for
    if (!open || this.sock === undefined || this.queued > 0) {
      this.queue.push(copyOf(d));
      this.queued += d.length;
      return open ? false : this.queued <= HOLD_BYTES;
    }
    const n = this.sock.write(d);
    if (n >= d.length) return true;
    const rest = copyOf(n > 0 ? d.subarray(n) : d);
    this.queue.push(rest);
    this.queued += rest.length;
    return false;
  }

  /** True once nothing waits. */
  flush(): boolean {
    const sock = this.sock;
    if (sock === undefined) return this.queued === 0;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const n = sock.write(head);
      if (n < head.length) {
        if (n > 0) {
          this.queue[0] = head.subarray(n);
          this.queued -= n;
        }
        return false;
      }
      this.queue.shift();
      this.queued -= head.length;
    }
    return true;
  }

  fin(): void {
    if (this.finished || this.closed || this.sock === undefined) return;
    this.finished = true;
    // shutdown(), not end(): on a plain Bun socket end() closes both ways, and on a TLS socket (Bun 1.4.4) it lost
    // bytes still coming in (several MB echoed after it: the socket closed early in about 1 run in 2).
    this.sock.shutdown();
  }

  drop(): void {
    this.queue = [];
    this.queued = 0;
  }
}

export class TcpPipe {
  private readonly out: Record<PipeSide, Outlet> = { down: new Outlet(), up: new Outlet() };
  private open = false;
  private done = false;
  private active = false;
  private linger: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly counters: TcpCounters | undefined, private readonly onDone: (p: TcpPipe) => void) {}

  get finished(): boolean {
    return this.done;
  }

  /** `side`'s socket may be written to (it is verified where that matters); bytes for it wait until start(). */
  attach(side: PipeSide, sock: AnySocket): void {
    this.out[side].sock = sock;
  }

  /** Both sides are attached: held bytes go out, reading resumes, and the connection counts as active. */
  start(): void {
    if (this.done || this.open) return;
    this.open = true;
    if (this.counters !== undefined) {
      this.counters.active++;
      this.active = true;
    }
    this.flushTo("down");
    this.flushTo("up");
  }

  data(from: PipeSide, d: Uint8Array): void {
    if (this.counters !== undefined) {
      if (from === "down") this.counters.received += d.length;
      else this.counters.sent += d.length;
    }
    if (!this.out[other(from)].write(d, this.open)) this.out[from].sock?.pause();
  }

  drain(side: PipeSide): void {
    if (this.open) this.flushTo(side);
  }

  /** FIN from `from`: the other side gets it once what is queued for it is out. */
  end(from: PipeSide): void {
    this.out[other(from)].finPending = true;
    if (this.open) this.flushTo(other(from));
  }

  close(side: PipeSide): void {
    const o = this.out[side];
    if (o.closed) return;
    o.closed = true;
    o.drop();
    if (this.out[other(side)].closed) return this.finish();
    if (!this.open) return this.abort(); // nothing was carried yet: nothing to finish gracefully
    // The other side gets what is queued for it, then FIN; it may not stay half-open for ever.
    this.end(side);
    this.linger = setTimeout(() => this.abort(), LINGER_MS);
    (this.linger as { unref?: () => void }).unref?.();
  }

  /** Cuts both sockets at once (refused identity, failed connect, drain deadline). */
  abort(): void {
    for (const side of ["down", "up"] as const) {
      const o = this.out[side];
      if (!o.closed) {
        o.closed = true;
        o.drop();
        o.sock?.terminate();
      }
    }
    this.finish();
  }

  private flushTo(side: PipeSide): void {
    const o = this.out[side];
    if (o.sock === undefined || o.closed || !o.flush()) return;
    // Caught up: the source may read again, and a FIN that waited behind the bytes goes out now.
    this.out[other(side)].sock?.resume();
    if (o.finPending) o.fin();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.linger !== undefined) clearTimeout(this.linger);
    if (this.active) this.counters!.active--;
    this.onDone(this);
  }
}

/** The socket events of a piped socket; sockets that need more (a handshake, a connect error) spread these. */
export const pipeEvents = {
  binaryType: "buffer",
  data: (s: Socket<PipeLink>, d: Buffer): void => s.data.pipe.data(s.data.side, d),
  drain: (s: Socket<PipeLink>): void => s.data.pipe.drain(s.data.side),
  end: (s: Socket<PipeLink>): void => s.data.pipe.end(s.data.side),
  close: (s: Socket<PipeLink>): void => s.data.pipe.close(s.data.side),
  error: (): void => {}, // close follows
} satisfies SocketHandler<PipeLink>;

/** A listener's live pipes, for its drain: each may finish within the budget, then the rest are cut. */
export function createPipeSet() {
  const pipes = new Set<TcpPipe>();
  let idle: (() => void) | undefined;
  const remove = (p: TcpPipe): void => {
    pipes.delete(p);
    if (pipes.size === 0) idle?.();
  };
  return {
    add(counters: TcpCounters | undefined): TcpPipe {
      const p = new TcpPipe(counters, remove);
      pipes.add(p);
      return p;
    },
    size: () => pipes.size,
    async drain(ms: number): Promise<void> {
      if (pipes.size > 0) {
        await new Promise<void>((resolve) => {
          idle = resolve;
          setTimeout(resolve, ms);
        });
      }
      for (const p of [...pipes]) p.abort();
    },
  };
}
