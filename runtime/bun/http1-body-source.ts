// A message body arriving on an HTTP/1.1 connection, exposed as a ReadableStream with socket backpressure.
// Fed raw socket bytes; hands back whatever follows the body (the next pipelined message).

import { ChunkedDecoder } from "./http1-chunked.ts";
import { BodyTooLargeError } from "../../shared/proxy/hygiene.ts";

export type FlowControl = { pause(): void; resume(): void };

export class IncomingBody {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private remaining: number;
  private readonly chunked: ChunkedDecoder | undefined;
  private finished = false;
  private discarding = false;

  private received = 0;

  /** `length` = declared Content-Length; undefined = chunked (then `maxBytes` bounds the decoded total). */
  constructor(
    length: number | undefined,
    private readonly flow: FlowControl,
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    this.remaining = length ?? 0;
    this.chunked = length === undefined ? new ChunkedDecoder() : undefined;
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.flow.resume(),
        cancel: () => {
          // The consumer gave up; keep reading (and dropping) so the connection stays in sync.
          this.flow.resume();
        },
      },
      { highWaterMark: 4 },
    );
  }

  get done(): boolean {
    return this.finished;
  }

  /** Consumes body bytes of `buf` from index `from`; returns the index just past the body bytes. Throws on bad framing. */
  feed(buf: Uint8Array, from: number): number {
    if (this.finished) return from;
    if (this.chunked) {
      const r = this.chunked.push(buf, from);
      for (const c of r.chunks) {
        this.received += c.length;
        if (this.received > this.maxBytes) throw new BodyTooLargeError(this.maxBytes);
        this.enqueue(c);
      }
      if (r.done) this.finish();
      return r.end;
    }
    const n = Math.min(this.remaining, buf.length - from);
    if (n > 0) this.enqueue(buf.subarray(from, from + n));
    this.remaining -= n;
    if (this.remaining === 0) this.finish();
    return from + n;
  }

  /** The response is out and nobody will read the rest: drop it (keeping the connection in sync) without backpressure. */
  discard(): void {
    this.discarding = true;
    this.flow.resume();
  }

  fail(err: Error): void {
    if (this.finished) return;
    this.finished = true;
    try {
      this.controller.error(err);
    } catch {
      // stream already closed or cancelled
    }
  }

  private enqueue(chunk: Uint8Array): void {
    if (this.discarding) return;
    try {
      // Copy: socket read buffers are not ours to keep.
      this.controller.enqueue(chunk.slice());
      if ((this.controller.desiredSize ?? 1) <= 0) this.flow.pause();
    } catch {
      // cancelled by the consumer: drop the bytes
    }
  }

  private finish(): void {
    this.finished = true;
    try {
      this.controller.close();
    } catch {
      // cancelled by the consumer
    }
  }
}
