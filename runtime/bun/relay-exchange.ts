// One relayed request (inbound), or one try of one (outbound, gateway): the rewritten head and the body bytes go out as
// they arrive, the response head is rewritten (hop-by-hop out, request id in), its body bytes pass, framing checked.
import { UpstreamError, type UpstreamErrorKind } from "../../shared/types.ts";
import { BodyTooLargeError } from "../../shared/proxy/hygiene.ts";
import { responseForError } from "../../shared/http/errors.ts";
import type { HeaderEdit } from "../../shared/filters/header-ops.ts";
import { ChunkedDecoder, encodeChunk, LAST_CHUNK } from "./http1-chunked.ts";
import { HEAD_END, isHeadError, parseResponseHead, type RequestHead, type ResponseHead } from "./http1-head.ts";
import { writeResponse } from "./http1-response-writer.ts";
import { downstreamHead, type ResponseOut } from "./relay-response-head.ts";
import { judgeCleanResponse, type CleanResponse } from "./http1-response-judge.ts";
import type { FlowControl } from "./http1-body-source.ts";
import type { SocketWriter } from "./socket-writer.ts";
import type { AppLink, AppSink } from "./app-link.ts";
import { Settling } from "./settling.ts";
import { assembly } from "./write-scratch.ts";
import { requestHeadLength, writeRequestHead } from "./request-head-bytes.ts";

export type RelayIo = {
  /** The downstream connection's writer and read side. */
  readonly writer: SocketWriter;
  readonly flow: FlowControl;
  /** The downstream may carry another request after this one (its request said so and the listener isn't draining). */
  readonly keepAlive: boolean;
  readonly maxBodyBytes: number;
  /** The response head is going out: from here a failure can only close the downstream connection. */
  responding(): void;
};

/**
 * Told once per request: when the response head is known (the app's, or the mesh's own error: then `failure` names
 * why), or with status 0 when the downstream went away before any answer.
 */
export type RelayEmit = (status: number, cause: string | undefined, bytesOut: number | undefined, failure: UpstreamErrorKind | undefined) => void;

/** What one relayed request needs: where it goes, the rewritten head, and who hears how it ended. */
export type RelaySpec = {
  readonly link: AppLink;
  /** The request target and fields to send (already rewritten by the core), and the id to stamp on the response. */
  readonly plan: {
    readonly target: string;
    readonly fields: ReadonlyArray<readonly [string, string]>;
    readonly requestId: string;
    /** A route's response header ops (outbound, gateway): applied to the app's fields before they are relayed. */
    readonly responseEdit?: HeaderEdit | undefined;
  };
  readonly req: RequestHead;
  readonly io: RelayIo;
  readonly emit: RelayEmit;
  /** The link is fine for another exchange (pooled links go back to their pool). */
  readonly release?: (link: AppLink) => void;
  /** performance.now() after which, with no response head yet, the mesh answers 504 (checkDeadline). */
  readonly deadline?: number;
  /** A retry policy's per-try timeout: no response head within it fails this try (checkDeadline, tryTimedOut). */
  readonly tryTimeoutMs?: number | undefined;
  /**
   * Asked before this try's outcome is relayed (the app's response head, or the mesh's error for the try; `perTry`:
   * the error is the per-try timeout): true = a retry takes over the downstream. This exchange then reports the try
   * (emit), closes its link and never settles.
   */
  readonly retry?: ((status: number, failure: UpstreamErrorKind | undefined, perTry: boolean) => boolean) | undefined;
};

const EMPTY = Buffer.alloc(0);
const MAX_RESPONSE_HEAD = 64 * 1024;

/** What the connection drives: one exchange, or a request's tries one after another (retry-relay.ts). */
export type RelayLike = Pick<RelayExchange, "done" | "feed" | "discard" | "fail" | "checkDeadline" | "whenSettled">;

export class RelayExchange extends Settling implements AppSink {
  /** Finished, or handed off to a retry (which never settles this exchange). */
  private settled = false;
  // Request body (downstream -> app).
  private remaining: number;
  private readonly decoder: ChunkedDecoder | undefined;
  private received = 0;
  private bodyDone: boolean;
  private discarding = false;
  private pausedDownstream = false;
  // Response (app -> downstream).
  private rbuf: Buffer = EMPTY;
  private inBody = false;
  private out: ResponseOut = "none";
  private rremaining = 0;
  private rdecoder: ChunkedDecoder | undefined;
  private appKeepAlive = true;
  private keepAlive: boolean;
  /** The request head's length in bytes: it is written again, from the plan, if a reused app connection turns out closed. */
  private readonly headLength: number;
  private readonly reused: boolean;
  private resent = false;
  /** The response is complete or the mesh answered: request bytes still arriving are not for the app any more. */
  private ended = false;

  private readonly link: AppLink;
  private readonly plan: RelaySpec["plan"];
  private readonly req: RequestHead;
  private readonly io: RelayIo;
  private readonly emitOnce: RelayEmit;
  private emitted = false;
  private readonly tryDeadline: number | undefined;

  constructor(private readonly spec: RelaySpec) {
    super();
    const { link, plan, req, io } = spec;
    this.link = link;
    this.plan = plan;
    this.req = req;
    this.io = io;
    this.emitOnce = spec.emit;
    this.tryDeadline = spec.tryTimeoutMs === undefined ? undefined : performance.now() + spec.tryTimeoutMs;
    this.keepAlive = io.keepAlive;
    const f = req.framing;
    this.remaining = f.kind === "length" ? f.length : 0;
    this.decoder = f.kind === "chunked" ? new ChunkedDecoder() : undefined;
    this.bodyDone = f.kind === "none";
    this.headLength = requestHeadLength(req.method, plan.target, plan.fields, f);
    this.reused = link.served > 0 && link.open;
    link.sink = this;
    const b = assembly(this.headLength);
    link.writeRange(b, 0, writeRequestHead(b, req.method, plan.target, plan.fields, f));
  }

  private emit(status: number, cause: string | undefined, bytesOut: number | undefined, failure: UpstreamErrorKind | undefined): void {
    if (this.emitted) return;
    this.emitted = true;
    this.emitOnce(status, cause, bytesOut, failure);
  }

  /** Called by the connection's timeout sweep: no response head by the deadline is a 504. */
  checkDeadline(now: number): void {
    if (this.inBody || this.ended) return;
    const d = this.spec.deadline;
    if (d !== undefined && now > d) return this.appFailed(new UpstreamError("timeout", `no response within the route timeout`));
    if (this.tryDeadline !== undefined && now > this.tryDeadline) this.tryTimedOut();
  }

  /** The per-try timeout ran out (its timer, or checkDeadline): with no response head yet, this try has failed. */
  tryTimedOut(): void {
    if (this.inBody || this.ended) return;
    this.appFailed(new UpstreamError("timeout", `try got no response within ${this.spec.tryTimeoutMs}ms`), true);
  }

  /** The request body has been read to its end (BodySink). */
  get done(): boolean {
    return this.bodyDone;
  }

  /** Request body bytes of `buf` from `from`; returns the index past them. Throws on bad framing or too much body. */
  feed(buf: Uint8Array, from: number): number {
    if (this.bodyDone) return from;
    let end: number;
    if (this.decoder !== undefined) {
      const r = this.decoder.push(buf, from);
      for (const c of r.chunks) this.received += c.length;
      if (this.received > this.io.maxBodyBytes) throw new BodyTooLargeError(this.io.maxBodyBytes);
      end = r.end;
      if (r.done) this.bodyDone = true;
    } else {
      end = from + Math.min(this.remaining, buf.length - from);
      this.remaining -= end - from;
      if (this.remaining === 0) this.bodyDone = true;
    }
    // Chunked bytes pass as received: the decoder has checked every size line and CRLF of them.
    if (end > from && !this.discarding && !this.ended && !this.link.write(buf.subarray(from, end))) {
      this.pausedDownstream = true;
      this.io.flow.pause();
    }
    return end;
  }

  /** The response went out before the body was read: the rest is dropped, and the app connection can't be reused. */
  discard(): void {
    this.discarding = true;
    this.io.flow.resume();
  }

  /** The downstream side failed (closed, body timeout or framing error): the app's half-sent request is abandoned. */
  fail(err: Error): void {
    if (this.settled) return;
    this.ended = true;
    this.emit(0, undefined, undefined, undefined);
    this.link.sink = undefined;
    this.link.close();
    this.finish(err);
  }

  onAppDrain(): void {
    if (this.pausedDownstream) {
      this.pausedDownstream = false;
      this.io.flow.resume();
    }
  }

  onAppData(d: Buffer): void {
    if (this.settled) return this.link.close(); // bytes with no request: the connection can't be trusted
    if (this.inBody) return this.body(d, 0);
    const buf = this.rbuf.length > 0 ? Buffer.concat([this.rbuf, d]) : d;
    const end = buf.indexOf(HEAD_END, 0);
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD) return this.appFailed(new UpstreamError("reset", "upstream response head too large"));
      this.rbuf = Buffer.from(Uint8Array.prototype.slice.call(buf)); // the read buffer is reused after this callback
      return;
    }
    this.rbuf = EMPTY;
    // The common answer, judged on its bytes: it leaves as it came, with the body bytes at hand, in one write.
    if (this.cleanable && buf.length > end + 4) {
      const c = judgeCleanResponse(buf, end, this.plan.requestId);
      if (c !== undefined) return this.respondClean(c, buf, end);
    }
    const head = parseResponseHead(buf.toString("latin1", 0, end), this.req.method);
    if (isHeadError(head)) return this.appFailed(new UpstreamError("reset", `bad upstream response: ${head.reason}`));
    if (head.status === 101) return this.appFailed(new UpstreamError("reset", "upstream switched protocols"));
    // 1xx: we answered Expect ourselves.
    if (head.status < 200) return buf.length > end + 4 ? this.onAppData(buf.subarray(end + 4)) : undefined;
    this.respond(head, buf, end);
  }

  onAppClose(err: Error | undefined, failure?: UpstreamErrorKind): void {
    if (this.settled) return;
    if (this.inBody) {
      if (this.out === "encode" || this.out === "raw") {
        // A body delimited by the close has ended; downstream it was chunked (or ends with our close too).
        this.appKeepAlive = false;
        if (this.out === "encode") this.io.writer.write(LAST_CHUNK);
        return this.complete();
      }
      return this.finish(new Error("app closed the connection mid-response"));
    }
    // Nothing came back. A reused connection the app had just closed is no evidence against the request: a body-less
    // one goes once more on a fresh connection (nothing was read back, so nothing can have been acted on twice).
    if (this.reused && !this.resent && failure === undefined && this.req.framing.kind === "none" && this.rbuf.length === 0) {
      this.resent = true;
      this.link.sink = this;
      const b = Buffer.allocUnsafe(this.headLength);
      writeRequestHead(b, this.req.method, this.plan.target, this.plan.fields, this.req.framing);
      this.link.write(b);
      return;
    }
    this.appFailed(new UpstreamError(failure ?? "reset", err?.message ?? "upstream closed the connection before responding"));
  }

  /** The app failed before a response head reached the downstream: the mesh answers with its own error. */
  private appFailed(e: UpstreamError, perTry = false): void {
    this.ended = true;
    this.link.sink = undefined;
    this.link.close();
    if (this.settled) return;
    const res = responseForError(e, this.plan.requestId);
    if (this.spec.retry?.(res.status, e.kind, perTry) === true) return this.handOff(res.status, e.kind);
    this.emit(res.status, res.headers.get("x-mesh-error") ?? undefined, undefined, e.kind);
    this.io.responding();
    writeResponse(this.io.writer, res, { method: this.req.method, version: this.req.version, keepAlive: this.keepAlive }).then(
      (keepAlive) => this.finish(undefined, keepAlive),
      (err: unknown) => this.finish(err instanceof Error ? err : new Error(String(err))),
    );
  }

  /** The answer may pass as received (downstreamHead's `asReceived`), as far as the request and route can tell. */
  private get cleanable(): boolean {
    return this.plan.responseEdit === undefined && this.keepAlive && this.req.version === "1.1" && this.req.method !== "HEAD";
  }

  /** A clean answer (its head is `buf[0..end)`, body bytes at hand follow): what respond does for one, without parsing. */
  private respondClean(c: CleanResponse, buf: Buffer, end: number): void {
    if (this.spec.retry?.(c.status, undefined, false) === true) return this.retryTakesOver(c.status);
    this.appKeepAlive = true;
    this.out = "length";
    this.rremaining = c.length;
    this.emit(c.status, undefined, c.length, undefined);
    this.io.responding();
    this.inBody = true;
    this.lengthResponse(buf, end, c.hasId ? "\r\n\r\n" : `\r\nx-request-id: ${this.plan.requestId}\r\n\r\n`, end + 4);
  }

  /** The response is dropped with its connection (its body may still be arriving): a retry has the downstream now. */
  private retryTakesOver(status: number): void {
    this.ended = true;
    this.link.sink = undefined;
    this.link.close();
    this.handOff(status, undefined);
  }

  /** `buf[0..end)`: the head's bytes as received, without the blank line; after the blank line, what followed in the same read. */
  private respond(head: ResponseHead, buf: Buffer, end: number): void {
    const from = end + 4;
    const rest = buf.length - from;
    if (this.spec.retry?.(head.status, undefined, false) === true) return this.retryTakesOver(head.status);
    this.appKeepAlive = head.keepAlive;
    const d = downstreamHead(head, this.req, this.keepAlive, this.plan.requestId, this.plan.responseEdit, rest > 0);
    this.out = d.out;
    this.rremaining = d.length;
    this.keepAlive = d.keepAlive;
    if (d.out === "chunked" || d.out === "decode") this.rdecoder = new ChunkedDecoder();
    this.emit(head.status, d.cause, d.declared, undefined);
    this.io.responding();
    this.inBody = true;
    if (d.asReceived) return this.lengthResponse(buf, end, d.text, from);
    if (d.out === "length" && rest > 0) return this.lengthResponse(buf, 0, d.text, from);
    const b = assembly(d.text.length);
    this.io.writer.writeRange(b, 0, b.write(d.text, 0, "latin1"));
    if (d.out === "none") {
      if (rest > 0) this.appKeepAlive = false;
      return this.complete();
    }
    if (d.out === "length" && this.rremaining === 0) return this.complete();
    if (rest > 0) this.body(buf, from);
  }

  /**
   * The common small response in one write (one TLS record): `src[0..rawEnd)` (the head as received; 0: none), then
   * `text`, then the body bytes at hand from `src[bodyFrom]`. Ranges are copied, not cut into views (subarray made
   * an object per range: ~2 % of a sidecar's samples).
   */
  private lengthResponse(src: Buffer, rawEnd: number, text: string, bodyFrom: number): void {
    const avail = src.length - bodyFrom;
    const n = Math.min(this.rremaining, avail);
    const total = rawEnd + text.length + n;
    const both = assembly(total);
    if (rawEnd > 0) src.copy(both, 0, 0, rawEnd);
    both.write(text, rawEnd, "latin1");
    if (n > 0) src.copy(both, rawEnd + text.length, bodyFrom, bodyFrom + n);
    this.rremaining -= n;
    if (avail > n) this.appKeepAlive = false; // bytes after the response: don't trust the connection again
    if (!this.io.writer.writeRange(both, 0, total)) this.downstreamBacklogged();
    if (this.rremaining === 0) this.complete();
  }

  /** Response body bytes from the app. */
  private body(d: Buffer, from: number): void {
    if (this.out === "length") {
      const n = Math.min(this.rremaining, d.length - from);
      this.rremaining -= n;
      if (d.length - from > n) this.appKeepAlive = false;
      if (n > 0) this.toDownstream(d.subarray(from, from + n), false);
      if (this.rremaining === 0) this.complete();
      return;
    }
    if (this.out === "encode") return this.toDownstream(encodeChunk(d.subarray(from)), true);
    if (this.out === "raw") return this.toDownstream(d.subarray(from), false);
    let r;
    try {
      r = this.rdecoder!.push(d, from);
    } catch (e) {
      return this.finish(e instanceof Error ? e : new Error(String(e)));
    }
    if (this.out === "chunked") {
      if (r.end > from) this.toDownstream(d.subarray(from, r.end), false);
    } else {
      for (const c of r.chunks) this.toDownstream(c, false);
    }
    if (r.done) {
      if (r.end < d.length) this.appKeepAlive = false;
      this.complete();
    }
  }

  private toDownstream(b: Uint8Array, owned: boolean): void {
    const w = this.io.writer;
    if (!(owned ? w.write(b) : w.writeBorrowed(b))) this.downstreamBacklogged();
  }

  /** The downstream took less than it was given: the app's side waits until it has taken the rest. */
  private downstreamBacklogged(): void {
    this.link.pause();
    this.io.writer.flushed().then(() => this.link.resume(), () => {});
  }

  private complete(): void {
    this.ended = true;
    this.link.sink = undefined;
    this.link.served++;
    this.link.idleSince = performance.now();
    // An app that said close, or a request body still arriving (the app answered early), ends this app connection.
    if (!this.appKeepAlive || !this.bodyDone || this.discarding) this.link.close();
    this.link.resume();
    if (this.link.open) this.spec.release?.(this.link);
    const w = this.io.writer;
    if (w.failed !== undefined) return this.finish(w.failed);
    if (!w.backlogged) return this.finish(undefined, this.keepAlive);
    w.flushed().then(() => this.finish(undefined, this.keepAlive), (e: Error) => this.finish(e));
  }

  /** A retry has the downstream now: this try is reported, and the exchange is done without settling. */
  private handOff(status: number, failure: UpstreamErrorKind | undefined): void {
    this.emit(status, undefined, undefined, failure);
    this.settled = true;
  }

  private finish(err: Error | undefined, keepAlive = false): void {
    if (this.settled) return;
    this.settled = true;
    this.settleWith(err, keepAlive);
  }
}
