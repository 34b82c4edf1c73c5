// Serializes a handler's Web Response onto an HTTP/1.1 connection: strips hop-by-hop fields, picks framing, streams.
// Small bodies with a declared length go out in one write with the head (one TLS record, the common case).

import { connectionTokens, isHopByHop } from "../../shared/http/hop-by-hop.ts";
import { encodeChunk, LAST_CHUNK } from "./http1-chunked.ts";
import type { SocketWriter } from "./socket-writer.ts";
import { knownBytes } from "./known-body.ts";

const SMALL_BODY = 64 * 1024;
// Reason phrases for responses built without one (the core's own error responses); clients ignore them anyway.
const REASONS: Record<number, string> = {
  200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
  400: "Bad Request", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 413: "Content Too Large",
  414: "URI Too Long", 429: "Too Many Requests", 431: "Request Header Fields Too Large", 500: "Internal Server Error",
  502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};
const DIGITS_RE = /^[0-9]{1,15}$/;

export type ResponseTarget = { method: string; version: "1.0" | "1.1"; keepAlive: boolean };

/** Thrown when the body could not be delivered intact; the caller must destroy the connection. */
export class ResponseAbort extends Error {
  override readonly name = "ResponseAbort";
}

function head(res: Response, extra: string, keepAlive: boolean, version: "1.0" | "1.1"): string {
  const h = res.headers;
  const conn = h.get("connection");
  const tokens = conn === null ? undefined : connectionTokens([conn]);
  let s = `HTTP/1.1 ${res.status} ${res.statusText || (REASONS[res.status] ?? "")}\r\n`;
  for (const [n, v] of h) {
    if (n === "content-length" || isHopByHop(n, tokens)) continue;
    s += `${n}: ${v}\r\n`;
  }
  if (!keepAlive) s += "connection: close\r\n";
  else if (version === "1.0") s += "connection: keep-alive\r\n";
  return s + extra + "\r\n";
}

function latin1(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/**
 * Writes `res` and resolves to whether the connection may carry another request.
 * Throws ResponseAbort (or a socket error) when the response could not be completed.
 */
export async function writeResponse(w: SocketWriter, res: Response, t: ResponseTarget): Promise<boolean> {
  const status = res.status;
  const noBody = t.method === "HEAD" || status < 200 || status === 204 || status === 304;
  const cl = res.headers.get("content-length");
  const declared = cl !== null && DIGITS_RE.test(cl) ? Number(cl) : undefined;
  let keepAlive = t.keepAlive;

  if (noBody || res.body === null) {
    if (res.body) await res.body.cancel().catch(() => {});
    const lengthField = noBody ? (t.method === "HEAD" && declared !== undefined ? `content-length: ${declared}\r\n` : "") : "content-length: 0\r\n";
    w.write(latin1(head(res, lengthField, keepAlive, t.version)));
    await w.flushed();
    return keepAlive;
  }

  const bytes = knownBytes(res);
  if (bytes !== undefined || (declared !== undefined && declared <= SMALL_BODY)) {
    const body = bytes ?? (await res.bytes());
    const h = latin1(head(res, `content-length: ${body.length}\r\n`, keepAlive, t.version));
    const out = new Uint8Array(h.length + body.length);
    out.set(h, 0);
    out.set(body, h.length);
    // Nothing left over (the usual case): no promise turn spent waiting for a drain that won't come.
    if (!w.write(out)) await w.flushed();
    return keepAlive;
  }

  // Streamed: the declared length when there is one, else chunked (or until close for an HTTP/1.0 peer).
  const chunked = declared === undefined && t.version === "1.1";
  if (declared === undefined && !chunked) keepAlive = false;
  const framing = declared !== undefined ? `content-length: ${declared}\r\n` : chunked ? "transfer-encoding: chunked\r\n" : "";
  w.write(latin1(head(res, framing, keepAlive, t.version)));
  const reader = res.body.getReader();
  let sent = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      sent += value.length;
      if (declared !== undefined && sent > declared) throw new ResponseAbort("response body longer than its Content-Length");
      if (!w.write(chunked ? encodeChunk(value) : value)) await w.flushed();
    }
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e instanceof ResponseAbort ? e : new ResponseAbort("response body failed", { cause: e });
  }
  if (declared !== undefined && sent !== declared) throw new ResponseAbort("response body shorter than its Content-Length");
  if (chunked) w.write(LAST_CHUNK);
  await w.flushed();
  return keepAlive;
}
