// Write side of a Bun socket with backpressure: keeps what the kernel did not take and resumes on drain.
// Bun's socket.write returns the bytes accepted; the rest is ours to retry, so body pumps await flushed().

import type { Socket } from "bun";

// A real copy: Buffer#slice (and so slice() on a Buffer passed as Uint8Array) is a view in Node and Bun.
const copyOf = (b: Uint8Array, from: number, to: number): Uint8Array => Uint8Array.prototype.slice.call(b, from, to);

export class SocketWriter {
  private pending: Uint8Array[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private dead: Error | undefined;

  constructor(private readonly sock: Socket<unknown>) {}

  /** True when everything was handed to the socket; false means wait for flushed() before writing more. */
  write(data: Uint8Array): boolean {
    if (this.dead) return false;
    if (this.pending.length > 0) {
      this.pending.push(data);
      return false;
    }
    const n = this.sock.write(data);
    if (n >= data.length) return true;
    this.pending.push(n > 0 ? data.subarray(n) : data);
    return false;
  }

  /**
   * As write(), for bytes the caller may not keep (a socket's read buffer, reused once its callback returns): whatever
   * the kernel did not take is copied before it waits in the queue.
   */
  writeBorrowed(data: Uint8Array): boolean {
    return this.writeRange(data, 0, data.length);
  }

  /** writeBorrowed for `data[from..to)`, with no view made of the range (the socket takes an offset and a length). */
  writeRange(data: Uint8Array, from: number, to: number): boolean {
    if (this.dead) return false;
    if (this.pending.length > 0) {
      this.pending.push(copyOf(data, from, to));
      return false;
    }
    const n = this.sock.write(data, from, to - from);
    if (n >= to - from) return true;
    this.pending.push(copyOf(data, n > 0 ? from + n : from, to));
    return false;
  }

  get backlogged(): boolean {
    return this.pending.length > 0;
  }

  /** Why the socket can take no more bytes, once it can't. */
  get failed(): Error | undefined {
    return this.dead;
  }

  flushed(): Promise<void> {
    if (this.dead) return Promise.reject(this.dead);
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  onDrain(): void {
    while (this.pending.length > 0) {
      const p = this.pending[0]!;
      const n = this.sock.write(p);
      if (n < p.length) {
        if (n > 0) this.pending[0] = p.subarray(n);
        return;
      }
      this.pending.shift();
    }
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.resolve();
  }

  onClose(err: Error): void {
    this.dead = err;
    this.pending = [];
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w.reject(err);
  }
}
