// One TLS connection taken by the permissive front, relayed as raw bytes to the server's own strict listener on
// loopback (which does the handshake and the SVID check). Bytes a socket did not take wait, and their source pauses.

import type { Socket, SocketHandler } from "bun";

const LOOPBACK = "127.0.0.1";
/** A private copy: the bytes handed to a data callback are only ours until it returns. */
const own = (b: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(b);

/** What one socket has not taken yet, in order. */
class Outbox {
  private queue: Uint8Array[] = [];

  get empty(): boolean {
    return this.queue.length === 0;
  }

  hold(data: Uint8Array): void {
    this.queue.push(own(data));
  }

  /** Writes what the socket takes now; true when nothing is left waiting. */
  send(to: Socket<unknown>, data: Uint8Array): boolean {
    if (this.queue.length > 0) {
      this.hold(data);
      return false;
    }
    const n = to.write(data);
    if (n >= data.length) return true;
    this.hold(n > 0 ? data.subarray(n) : data);
    return false;
  }

  flush(to: Socket<unknown>): boolean {
    while (this.queue.length > 0) {
      const p = this.queue[0]!;
      const n = to.write(p);
      if (n < p.length) {
        if (n > 0) this.queue[0] = p.subarray(n);
        return false;
      }
      this.queue.shift();
    }
    return true;
  }
}

const backHandlers: SocketHandler<TlsRelay> = {
  binaryType: "buffer",
  open: (b) => b.data.backOpened(b),
  data: (b, d) => b.data.fromBack(d),
  drain: (b) => b.data.backDrained(),
  close: (b) => b.data.backClosed(),
  error: (b) => b.data.destroy(),
  connectError: (b, err) => b.data.connectFailed(err),
};

export class TlsRelay {
  private back: Socket<TlsRelay> | undefined;
  private backGone = false;
  private readonly toBack = new Outbox();
  private readonly toFront = new Outbox();
  private closed = false;
  /** The strict listener ended the connection: end the front once what it sent has gone out. */
  private endFront = false;

  /** `first`: the bytes that told the front this is TLS (the start of the ClientHello); nothing is dropped. */
  constructor(
    private readonly front: Socket<unknown>,
    port: number,
    first: Uint8Array,
    private readonly onFail: (reason: string) => void,
  ) {
    this.toBack.hold(first);
    // Nothing more is read until the loopback connection is up (a client waits for the ServerHello anyway).
    front.pause();
    Bun.connect<TlsRelay>({ hostname: LOOPBACK, port, data: this, socket: backHandlers }).catch((e: unknown) => this.connectFailed(e));
  }

  fromFront(d: Uint8Array): void {
    if (this.closed) return;
    if (this.back === undefined) {
      this.toBack.hold(d);
      this.front.pause();
    } else if (!this.toBack.send(this.back, d)) {
      this.front.pause();
    }
  }

  frontDrained(): void {
    if (this.closed || !this.toFront.flush(this.front)) return;
    if (this.endFront) {
      this.closed = true;
      this.front.end();
    } else {
      this.back?.resume();
    }
  }

  frontClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.back !== undefined && !this.backGone) {
      this.toBack.flush(this.back);
      this.back.end();
    }
  }

  backOpened(b: Socket<TlsRelay>): void {
    if (this.closed) return void b.terminate();
    this.back = b;
    b.setNoDelay(true);
    if (this.toBack.flush(b)) this.front.resume();
  }

  fromBack(d: Uint8Array): void {
    if (this.closed) return;
    if (!this.toFront.send(this.front, d)) this.back?.pause();
  }

  backDrained(): void {
    if (!this.closed && this.back !== undefined && this.toBack.flush(this.back)) this.front.resume();
  }

  backClosed(): void {
    this.backGone = true;
    if (this.closed) return;
    if (this.toFront.empty) {
      this.closed = true;
      this.front.end();
    } else {
      this.endFront = true;
    }
  }

  connectFailed(e: unknown): void {
    if (this.closed) return;
    this.onFail(`relay to the mTLS listener failed: ${e instanceof Error ? e.message : String(e)}`);
    this.destroy();
  }

  destroy(): void {
    this.closed = true;
    this.front.terminate();
    if (!this.backGone) this.back?.terminate();
  }
}
