// Bounded request-body buffering for retries: a body up to the limit is kept so every try can resend it;
// a larger one is handed on intact (already-read chunks + the rest of the stream) and sent only once.
import { copyRequest } from "./request-copy.ts";

export type ReplayableBody =
  | { readonly kind: "none" } // no body: the same Request can be sent again
  | { readonly kind: "buffered"; readonly bytes: Uint8Array<ArrayBuffer> }
  | { readonly kind: "oversized"; readonly request: Request };

export async function prepareReplay(req: Request, maxBytes: number): Promise<ReplayableBody> {
  if (req.body === null) return { kind: "none" };
  const declared = req.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    return { kind: "oversized", request: req }; // body untouched
  }
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > maxBytes) return { kind: "oversized", request: copyRequest(req, { body: resume(chunks, reader) }) };
  }
  return { kind: "buffered", bytes: concat(chunks, total) };
}

function resume(chunks: Uint8Array[], reader: ReadableStreamDefaultReader<Uint8Array>): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (next < chunks.length) {
        controller.enqueue(chunks[next] as Uint8Array);
        chunks[next++] = EMPTY; // let sent chunks be collected
        return;
      }
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

const EMPTY = new Uint8Array(0);

function concat(chunks: Uint8Array[], total: number): Uint8Array<ArrayBuffer> {
  // Body stream chunks are backed by plain ArrayBuffers (never shared memory), so the narrowing is sound.
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
