// One plaintext HTTP/1.1 connection to an upstream (the app on loopback, or a service outside the mesh): writes a
// request head exactly as given (no invented User-Agent/Accept, unlike fetch), streams bodies, parses the response.

import type { Socket } from "bun";
import { UpstreamError } from "../../shared/types.ts";
import { IncomingBody } from "./http1-body-source.ts";
import { encodeChunk, LAST_CHUNK } from "./http1-chunked.ts";
import { HEAD_END, isHeadError, parseResponseHead, type ResponseHead } from "./http1-head.ts";
import { isHopByHop, connectionTokens } from "../../shared/http/hop-by-hop.ts";
import { SocketWriter } from "./socket-writer.ts";
import { responseWithBytes } from "./known-body.ts";

const MAX_RESPONSE_HEAD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

type Pending = {
  method: string;
  resolve: (res: Response) => void;
  reject: (e: Error) => void;
  /** Response bytes have arrived: a failure after this point is not safe to retry on another connection. */
  started: boolean;
};

export class ClientConnection {
  readonly writer: SocketWriter;
  private buf: Buffer = EMPTY;
  private pending: Pending | undefined;
  private body: IncomingBody | undefined;
  private untilClose: ReadableStreamDefaultController<Uint8Array> | undefined;
  private closed = false;
  idleSince = 0;

  constructor(
    private readonly sock: Socket<unknown>,
    private readonly release: (c: ClientConnection) => void,
  ) {
    this.writer = new SocketWriter(sock);
  }

  get usable(): boolean {
    return !this.closed && this.pending === undefined && this.body === undefined && this.untilClose === undefined;
  }

  /** Sends `req` and resolves with the response head; the body streams after. */
  async send(req: Request, pathAndQuery: string, signal: AbortSignal): Promise<Response> {
    const result = new Promise<Response>((resolve, reject) => {
      this.pending = { method: req.method, resolve, reject, started: false };
    });
    // Stays attached while the body streams (an abort then cancels the body); detached once the exchange ends,
    // so a later abort can never reach the next request on this pooled connection.
    const onAbort = (): void => this.destroy(new UpstreamError("timeout", "upstream request aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    this.detach = () => signal.removeEventListener("abort", onAbort);
    this.writeRequest(req, pathAndQuery).catch((e) => this.destroy(e instanceof Error ? e : new Error(String(e))));
    return result;
  }

  private detach: (() => void) | undefined;

  private async writeRequest(req: Request, pathAndQuery: string): Promise<void> {
    const h = req.headers;
    const conn = h.get("connection");
    const tokens = conn === null ? undefined : connectionTokens([conn]);
    let head = `${req.method} ${pathAndQuery} HTTP/1.1\r\n`;
    for (const [n, v] of h) if (!isHopByHop(n, tokens)) head += `${n}: ${v}\r\n`;
    const hasBody = req.body !== null && req.method !== "GET" && req.method !== "HEAD";
    const chunked = hasBody && !h.has("content-length");
    if (chunked) head += "transfer-encoding: chunked\r\n";
    this.writer.write(Buffer.from(head + "\r\n", "latin1"));
    if (!hasBody) return;
    const reader = req.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (value.length === 0) continue;
      if (!this.writer.write(chunked ? encodeChunk(value) : value)) await this.writer.flushed();
    }
    if (chunked) this.writer.write(LAST_CHUNK);
  }

  onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.body !== undefined) {
      let end: number;
      try {
        end = this.body.feed(chunk, 0);
      } catch (e) {
        return this.destroy(e instanceof Error ? e : new Error(String(e)));
      }
      // Bytes after a complete response that nobody asked for: the upstream broke framing.
      if (end < chunk.length) return this.destroy(new UpstreamError("reset", "upstream sent bytes after the response"));
      if (this.body.done) this.bodyDone();
      return;
    }
    if (this.untilClose !== undefined) {
      this.untilClose.enqueue(chunk.slice());
      return;
    }
    const p = this.pending;
    if (p === undefined) return this.destroy(new UpstreamError("reset", "upstream sent bytes with no request"));
    p.started = true;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.parseHead(p);
  }

  private parseHead(p: Pending): void {
    for (;;) {
      const end = this.buf.indexOf(HEAD_END, 0);
      if (end < 0) {
        if (this.buf.length > MAX_RESPONSE_HEAD) this.destroy(new UpstreamError("reset", "upstream response head too large"));
        else this.buf = Buffer.from(this.buf); // keep a private copy of a partial head
        return;
      }
      const head = parseResponseHead(this.buf.toString("latin1", 0, end), p.method);
      if (isHeadError(head)) return this.destroy(new UpstreamError("reset", `bad upstream response: ${head.reason}`));
      const rest = this.buf.subarray(end + 4);
      this.buf = EMPTY;
      // Interim responses (100 Continue, 103 Early Hints) are not forwarded; 101 would need an upgrade we don't do.
      if (head.status === 101) return this.destroy(new UpstreamError("reset", "upstream switched protocols"));
      if (head.status < 200) {
        this.buf = rest.length > 0 ? Buffer.from(rest) : EMPTY;
        if (this.buf.length === 0) return;
        continue;
      }
      return this.respond(p, head, rest);
    }
  }

  private respond(p: Pending, head: ResponseHead, rest: Buffer): void {
    let tokens: Set<string> | undefined;
    for (const [n, v] of head.fields) if (n === "connection") tokens = connectionTokens([v]);
    const headers = new Headers();
    for (const [n, v] of head.fields) if (!isHopByHop(n, tokens)) headers.append(n, v);
    let stream: ReadableStream<Uint8Array> | null = null;
    const f = head.framing;
    if (f.kind === "length" && rest.length >= f.length) {
      // The common small response: the whole body came with the head. A byte body spares a stream per response.
      if (rest.length > f.length) return this.destroy(new UpstreamError("reset", "upstream sent bytes after the response"));
      const bytes = Uint8Array.prototype.slice.call(rest, 0, f.length);
      this.keepAlive = head.keepAlive;
      this.pending = undefined;
      p.resolve(responseWithBytes(bytes, { status: head.status, statusText: head.statusText, headers }));
      return this.bodyDone();
    } else if (f.kind === "close") {
      stream = new ReadableStream<Uint8Array>({ start: (c) => void (this.untilClose = c), cancel: () => this.destroy(new Error("cancelled")) });
      if (rest.length > 0) this.untilClose!.enqueue(rest.slice());
    } else if (f.kind !== "none") {
      const body = new IncomingBody(f.kind === "length" ? f.length : undefined, { pause: () => this.sock.pause(), resume: () => this.sock.resume() });
      this.body = body;
      stream = body.stream;
      try {
        const end = body.feed(rest, 0);
        if (end < rest.length) return this.destroy(new UpstreamError("reset", "upstream sent bytes after the response"));
      } catch (e) {
        return this.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    }
    this.keepAlive = head.keepAlive;
    this.pending = undefined;
    p.resolve(new Response(stream, { status: head.status, statusText: head.statusText, headers }));
    if (this.body === undefined && this.untilClose === undefined) this.bodyDone();
    else if (this.body?.done) this.bodyDone();
  }

  private keepAlive = true;

  private bodyDone(): void {
    this.body = undefined;
    this.detach?.();
    this.detach = undefined;
    if (!this.keepAlive) return this.destroy(undefined);
    this.idleSince = performance.now();
    this.release(this);
  }

  onDrain(): void {
    this.writer.onDrain();
  }

  /** The socket closed (by either side). A pending request fails; an until-close body ends normally. */
  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.detach?.();
    const err = new UpstreamError("reset", "upstream closed the connection");
    this.writer.onClose(err);
    this.untilClose?.close();
    this.untilClose = undefined;
    this.body?.fail(err);
    this.untouchedAtFailure = this.pending !== undefined && !this.pending.started;
    this.pending?.reject(err);
    this.pending = undefined;
  }

  /** The request in flight failed before any response byte came back (so it may go again elsewhere). */
  untouchedAtFailure = false;

  destroy(err: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.detach?.();
    const e = err ?? new UpstreamError("reset", "upstream connection closed");
    this.writer.onClose(e);
    try {
      this.untilClose?.error(e);
    } catch {
      // already closed
    }
    this.untilClose = undefined;
    this.body?.fail(e);
    this.untouchedAtFailure = this.pending !== undefined && !this.pending.started;
    this.pending?.reject(e);
    this.pending = undefined;
    this.sock.terminate();
  }
}
