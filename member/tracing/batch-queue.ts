// The span processor between the SDK and the exporter: a bounded queue sent in batches, one export at a time, off the
// request path. When the collector is slow or down it drops spans and counts them; a request never waits for it.
import type { ReadableSpan, SpanProcessor } from "@opentelemetry/sdk-trace-base";
import { countDropped, countExported } from "./stats.ts";

/** Sends one batch; resolves true when the collector took it. Must not throw. */
export type SendBatch = (spans: readonly ReadableSpan[]) => Promise<boolean>;

export type BatchQueueOptions = { maxQueue: number; maxBatch: number; delayMs: number };

/**
 * Not the SDK's BatchSpanProcessor: that one drops on a full queue too, but keeps the count private (and resets it
 * when it logs), and hands a failed export to the global error handler, so neither loss could be counted here.
 */
export class BatchQueue implements SpanProcessor {
  private queue: ReadableSpan[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending: Promise<void> | undefined;

  constructor(
    private readonly send: SendBatch,
    private readonly opts: BatchQueueOptions,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.queue.length >= this.opts.maxQueue) {
      countDropped(1);
      return;
    }
    this.queue.push(span);
    if (this.timer === undefined && this.sending === undefined) this.schedule();
  }

  /** Queued spans not yet handed to the exporter. */
  queued(): number {
    return this.queue.length;
  }

  forceFlush(): Promise<void> {
    this.clearTimer();
    return this.drain();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.opts.delayMs);
    // A pending export must not keep a stopping process alive (Deno timers have no unref; its process exits anyway).
    (this.timer as { unref?: () => void }).unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Batches until the queue is empty or an export fails; after a failure the rest waits for the next tick. */
  private drain(): Promise<void> {
    if (this.sending !== undefined) return this.sending;
    this.sending = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        const ok = await this.send(batch);
        if (ok) countExported(batch.length);
        else {
          countDropped(batch.length);
          break;
        }
      }
    })().finally(() => {
      this.sending = undefined;
      if (this.queue.length > 0 && this.timer === undefined) this.schedule();
    });
    return this.sending;
  }
}
