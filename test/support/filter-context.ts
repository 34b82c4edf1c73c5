// Test fixtures for the filter unit tests: a fresh RequestContext and small stream helpers.
// Kept out of the production modules; imported only by *.test.ts files.
import type { RequestContext } from "../../shared/types.ts";

export function makeContext(signal: AbortSignal = new AbortController().signal): RequestContext {
  return { requestId: "req-1", startedAt: Date.now(), signal, tried: new Set(), attempts: 0 };
}

/** A body stream of the given chunks, with no declared length (like a chunked upload). */
export function chunkedStream(chunks: string[], onCancel?: () => void): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(enc.encode(chunks[i++]));
      else controller.close();
    },
    cancel() {
      onCancel?.();
    },
  });
}

export const never = <T>(): Promise<T> => new Promise<T>(() => {});
export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
