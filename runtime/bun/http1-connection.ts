// One accepted connection speaking HTTP/1.1 (every listener: gateway, outbound, inbound mTLS): parses heads, streams
// bodies, runs the handler. Requests are handled in order (pipelined bytes wait until the response is out).

import type { Socket } from "bun";
import { isHopByHop } from "../../shared/http/hop-by-hop.ts";
import { IncomingBody } from "./http1-body-source.ts";
import { ChunkedDecodeError } from "./http1-chunked.ts";
import { HEAD_END, isHeadError, parseRequestHead, type RequestHead } from "./http1-head.ts";
import { writeResponse } from "./http1-response-writer.ts";
import { SocketWriter } from "./socket-writer.ts";
import { BodyTooLargeError } from "../../shared/proxy/hygiene.ts";
import { isResetResponse } from "../../shared/http/errors.ts";
import type { InboundLimits } from "../ports.ts";
import type { RelayStarter } from "./inbound-relay.ts";
import type { RelayIo, RelayLike } from "./relay-exchange.ts";

/** A request body being read: streamed into a Request (IncomingBody) or passed to the app (RelayExchange). */
type BodySink = { feed(buf: Uint8Array, from: number): number; readonly done: boolean; fail(err: Error): void; discard(): void };

export type ConnectionHost = {
  readonly limits: InboundLimits;
  readonly draining: () => boolean;
  requestStarted(): void;
  requestEnded(): void;
};

const EMPTY = Buffer.alloc(0);
const copy = (b: Uint8Array, from: number, to: number): Uint8Array => Uint8Array.prototype.slice.call(b, from, to);
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
const REASONS: Record<number, [string, string]> = {
  400: ["Bad Request", "bad-request"],
  408: ["Request Timeout", "request-timeout"],
  413: ["Content Too Large", "body-too-large"],
  417: ["Expectation Failed", "bad-request"],
  431: ["Request Header Fields Too Large", "headers-too-large"],
  500: ["Internal Server Error", "internal"],
  501: ["Not Implemented", "not-implemented"],
  505: ["HTTP Version Not Supported", "bad-request"],
};
const MiB = 1024 * 1024;

/** A request body that stalled or ran past its total time; answered 408 when the response has not started. */
export class BodyTimeoutError extends Error {
  override readonly name = "BodyTimeoutError";
}

/**
 * Handles one request on one connection; the listener binds the peer (identity, address) into it. `target` is the
 * path + query exactly as received: the Request's URL has been through WHATWG parsing, which resolves "/a/../b".
 */
export type ConnectionHandler = (req: Request, target: string) => Promise<Response>;

export class Http1Connection {
  // Unparsed bytes are buf[pos..]; buf may be the socket's own read buffer until settle() runs.
  private buf: Buffer = EMPTY;
  private pos = 0;
  private owned = true;
  /** A request is between "head parsed" and "response written". */
  private busy = false;
  private body: BodySink | undefined;
  /** The relayed request in progress (fast path), told when the connection goes away. */
  private exchange: RelayLike | undefined;
  private readonly flow = { pause: () => this.pause(), resume: () => this.resume() };
  private abort: AbortController | undefined;
  private closed = false;
  private readonly writer: SocketWriter;
  /** Start of the wait this connection is in (idle, head, or body); checked by the server's sweep. */
  private since = performance.now();
  private paused = false;
  /** Set when the response went out before the request body was fully read: finish once it has been drained. */
  private finishAfterBody: boolean | undefined;
  /** The response head is being written: a late failure can only close the connection, not answer. */
  private responding = false;
  private bodyStartedAt = 0;

  constructor(
    private readonly sock: Socket<unknown>,
    private readonly handler: ConnectionHandler,
    private readonly host: ConnectionHost,
    /** The inbound fast path, when the listener has one: offered each request head first. */
    private readonly relay?: RelayStarter,
  ) {
    this.writer = new SocketWriter(sock);
  }

  get idle(): boolean {
    return !this.busy;
  }

  onData(chunk: Buffer): void {
    if (this.closed) return;
    this.since = performance.now();
    if (this.body && !this.body.done) {
      let end: number;
      try {
        end = this.body.feed(chunk, 0);
      } catch (e) {
        this.failBody(e);
        return;
      }
      if (end < chunk.length) this.append(chunk.subarray(end));
      if (this.body.done && this.finishAfterBody !== undefined) this.finish(this.finishAfterBody);
    } else {
      this.append(chunk);
      if (!this.busy) this.next();
    }
    this.settle();
  }

  onDrain(): void {
    this.writer.onDrain();
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Error("downstream connection closed");
    this.writer.onClose(err);
    this.body?.fail(err);
    this.abort?.abort(err);
    this.exchange?.fail(err);
    this.relay?.close();
  }

  /** Called by the server's timer sweep; closes connections that waited too long. */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    const l = this.host.limits;
    if (!this.busy) {
      const limit = this.pos < this.buf.length ? l.headerTimeoutMs : l.idleTimeoutMs;
      if (now - this.since > limit) this.destroy();
      else this.relay?.idle(now);
    } else {
      this.exchange?.checkDeadline(now);
      if (this.closed || !this.body || this.body.done) return;
      // Bounded by the mesh, not by whatever the upstream tolerates: a trickling body holds a connection and a slot.
      const idle = l.bodyIdleTimeoutMs ?? 10_000;
      const total = l.bodyTimeoutMs ?? 60_000;
      if (now - this.since > idle) this.failBody(new BodyTimeoutError(`request body idle for more than ${idle} ms`));
      else if (now - this.bodyStartedAt > total) this.failBody(new BodyTimeoutError(`request body took more than ${total} ms`));
    }
  }

  /** Drain: close now if no request is in progress (a busy one closes after its response). */
  closeIfIdle(): void {
    if (!this.busy && !this.closed) this.sock.end();
  }

  destroy(): void {
    if (this.closed) return;
    this.sock.terminate();
    this.onClose();
  }

  private append(b: Buffer): void {
    if (this.pos >= this.buf.length) {
      // The common case: parse straight from the read buffer, no copy.
      this.buf = b;
      this.owned = false;
    } else {
      this.buf = Buffer.concat([this.buf.subarray(this.pos), b]);
      this.owned = true;
    }
    this.pos = 0;
    // Bytes piling up behind a busy request (pipelining) are bounded by the header limit.
    if (this.busy && this.buf.length > this.host.limits.maxHeaderBytes) this.pause();
  }

  /** Keeps only a private copy of unparsed bytes once the read callback returns. */
  private settle(): void {
    if (this.owned) return;
    this.buf = this.pos < this.buf.length ? Buffer.from(copy(this.buf, this.pos, this.buf.length)) : EMPTY;
    this.pos = 0;
    this.owned = true;
  }

  private next(): void {
    const buf = this.buf;
    let start = this.pos;
    // RFC 9112 2.2: ignore empty lines before a request line (some clients send CRLF after a body).
    while (start + 1 < buf.length && buf[start] === 0x0d && buf[start + 1] === 0x0a) start += 2;
    const end = buf.indexOf(HEAD_END, start);
    const max = this.host.limits.maxHeaderBytes;
    if (end < 0) {
      // A head that ends with bare LFs would otherwise sit here until the header timeout.
      if (buf.indexOf("\n\n", start, "latin1") >= 0) this.reject(400, "bare LF in head");
      else if (buf.length - start > max) this.reject(431, "request head too large");
      return;
    }
    if (end + 4 - start > max) return this.reject(431, "request head too large");
    const head = parseRequestHead(buf.toString("latin1", start, end));
    if (isHeadError(head)) return this.reject(head.status, head.reason);
    const f = head.framing;
    // A Web Request cannot carry a body on GET or HEAD, and no mesh caller needs one.
    if (f.kind !== "none" && (head.method === "GET" || head.method === "HEAD")) return this.reject(400, "body on GET or HEAD");
    const maxBody = this.host.limits.maxBodyBytes ?? 10 * MiB;
    if (f.kind === "length" && f.length > maxBody) return this.reject(413, `body is ${f.length} bytes, limit ${maxBody}`);
    let p = end + 4;
    if (this.relay !== undefined) {
      const x = this.relay.start(head, this.relayIo(head, maxBody));
      if (x !== undefined) return this.startRelay(x, head, p);
    }
    let body: Uint8Array | ReadableStream<Uint8Array> | null = null;
    if (f.kind === "length" && buf.length - p >= f.length) {
      body = copy(buf, p, p + f.length);
      p += f.length;
    } else if (f.kind !== "none") {
      const incoming = new IncomingBody(f.kind === "length" ? f.length : undefined, { pause: () => this.pause(), resume: () => this.resume() }, maxBody);
      try {
        p = incoming.feed(buf, p);
      } catch (e) {
        if (e instanceof BodyTooLargeError) return this.reject(413, e.message);
        return this.reject(400, e instanceof ChunkedDecodeError ? e.message : "bad body");
      }
      this.bodyStartedAt = performance.now();
      this.body = incoming;
      body = incoming.stream;
      if (!incoming.done && head.expectContinue) this.writer.write(CONTINUE);
    }
    this.pos = p;
    this.dispatch(head, body);
  }

  private dispatch(head: RequestHead, body: Uint8Array | ReadableStream<Uint8Array> | null): void {
    this.busy = true;
    this.since = performance.now();
    const tokens = head.connection;
    const headers = new Headers();
    for (const [n, v] of head.fields) if (!isHopByHop(n, tokens)) headers.append(n, v);
    const abort = new AbortController();
    this.abort = abort;
    let req: Request;
    try {
      req = new Request(`http://${head.host}${head.target}`, { method: head.method, headers, body, signal: abort.signal, duplex: "half" } as RequestInit);
    } catch {
      return this.reject(400, "request not representable");
    }
    this.host.requestStarted();
    void this.run(req, head);
  }

  /** One request from handler to written response; one async frame instead of a chain of callbacks. */
  private async run(req: Request, head: RequestHead): Promise<void> {
    try {
      let res: Response;
      try {
        res = await this.handler(req, head.target);
      } catch {
        this.reject(500, "handler failed");
        return;
      }
      // An injected reset: the caller sees the connection drop, as from a crashed upstream.
      if (isResetResponse(res)) {
        this.destroy();
        return;
      }
      // Already answered by the connection itself (408/413 while the body streamed): drop the late response.
      if (this.closed) {
        res.body?.cancel().catch(() => {});
        return;
      }
      this.responding = true;
      let keepAlive: boolean;
      try {
        keepAlive = await writeResponse(this.writer, res, { method: head.method, version: head.version, keepAlive: head.keepAlive && !this.host.draining() });
      } catch {
        this.destroy();
        return;
      }
      this.finish(keepAlive);
    } finally {
      this.host.requestEnded();
    }
  }

  private relayIo(head: RequestHead, maxBodyBytes: number): RelayIo {
    return { writer: this.writer, flow: this.flow, keepAlive: head.keepAlive && !this.host.draining(), maxBodyBytes, responding: this.markResponding };
  }

  /** The fast path: the exchange has sent the head to the app; the body bytes follow as they arrive. */
  private startRelay(x: RelayLike, head: RequestHead, p: number): void {
    this.busy = true;
    this.since = performance.now();
    this.exchange = x;
    this.host.requestStarted();
    try {
      p = x.feed(this.buf, p);
    } catch (e) {
      x.fail(e instanceof Error ? e : new Error(String(e)));
      this.host.requestEnded();
      this.exchange = undefined;
      return this.reject(e instanceof BodyTooLargeError ? 413 : 400, e instanceof Error ? e.message : "bad body");
    }
    this.pos = p;
    if (!x.done) {
      this.bodyStartedAt = performance.now();
      this.body = x;
      if (head.expectContinue) this.writer.write(CONTINUE);
    }
    x.whenSettled(this.onRelayEnded);
  }

  // Made once per connection, not per request: a relayed request's callbacks.
  private readonly markResponding = (): void => {
    this.responding = true;
  };
  private readonly onRelayEnded = (err: Error | undefined, keepAlive: boolean): void => this.relayEnded(err, keepAlive);

  private relayEnded(err: Error | undefined, keepAlive: boolean): void {
    this.exchange = undefined;
    try {
      if (err !== undefined) this.destroy();
      else this.finish(keepAlive);
    } finally {
      this.host.requestEnded();
    }
  }

  private finish(keepAlive: boolean): void {
    if (this.closed) return;
    // A body the handler never read (say, a 403) is drained and dropped so the connection stays usable;
    // checkTimeouts() still closes it if the client stalls.
    if (this.body && !this.body.done) {
      this.finishAfterBody = keepAlive;
      this.body.discard();
      return;
    }
    this.finishAfterBody = undefined;
    this.responding = false;
    this.busy = false;
    this.body = undefined;
    this.abort = undefined;
    this.since = performance.now();
    if (!keepAlive || this.host.draining()) {
      this.closed = true;
      this.sock.end();
      return;
    }
    this.resume();
    if (this.pos < this.buf.length) this.next();
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.sock.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.sock.resume();
    }
  }

  private failBody(e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.body?.fail(err);
    // While no response byte is out the client still gets a status that says why; after that, only a close.
    if (this.responding) return this.destroy();
    if (err instanceof BodyTimeoutError) return this.reject(408, err.message);
    if (err instanceof BodyTooLargeError) return this.reject(413, err.message);
    if (err instanceof ChunkedDecodeError) return this.reject(400, err.message);
    this.destroy();
  }

  /** Answers with the same JSON error shape as the routing core (errors.ts), then closes. */
  private reject(status: number, reason: string): void {
    if (this.closed) return;
    const [text, cause] = REASONS[status] ?? ["", "bad-request"];
    const id = crypto.randomUUID();
    const body = JSON.stringify({ error: cause, status, message: reason, requestId: id });
    const msg = `HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: application/json\r\nx-request-id: ${id}\r\nx-mesh-error: ${cause}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
    this.writer.write(Buffer.from(msg, "utf8"));
    this.closed = true;
    this.abort?.abort(new Error(reason));
    this.body?.fail(new Error(reason));
    this.sock.end();
  }
}
