// One request over a node:http(s) Agent, answered as a Web Response: the Deno adapter's mesh and plain clients.
// node:http sends only the headers it is given (plus Connection and body framing), so no header is invented.
import type { Agent, ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { Readable } from "node:stream";
import { UpstreamError, type UpstreamErrorKind } from "../../shared/types.ts";
import { removeHopByHop } from "../../shared/http/hop-by-hop.ts";
import { classifyNodeError } from "./node-errors.ts";

export type AgentRequest = {
  /** node:http's or node:https's `request`. */
  request: (opts: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;
  agent: Agent;
  /** The event that says a new connection is usable: "secureConnect" after the TLS handshake, else "connect". */
  connectedEvent: "connect" | "secureConnect";
  address: string;
  port: number;
  method: string;
  /** Path and query, as the request carried them. */
  path: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
  signal: AbortSignal;
  /** Only a new connection is timed; a reused one is already up. */
  connectTimeoutMs: number | undefined;
  /** A kind for errors the connection's own checks raised (the identity check), before the generic mapping. */
  kindOf?: (err: unknown) => UpstreamErrorKind | undefined;
};

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function toResponse(res: IncomingMessage, method: string): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
  // node:http already removed the chunked framing, so Transfer-Encoding (and the rest of the hop's fields) would lie.
  removeHopByHop(headers);
  const status = res.statusCode ?? 0;
  if (method === "HEAD" || NULL_BODY_STATUS.has(status)) {
    res.resume();
    return new Response(null, { status, statusText: res.statusMessage ?? "", headers });
  }
  const body = Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
}

/** Streams the request body with backpressure; a failing body source ends the request as a reset. */
async function writeBody(creq: ClientRequest, body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (creq.destroyed) return void reader.cancel().catch(() => {});
      if (!creq.write(value)) await new Promise<void>((r) => (creq.once("drain", r), creq.once("close", r)));
    }
    creq.end();
  } catch (err) {
    creq.destroy(err instanceof Error ? err : new Error(String(err)));
  }
}

export function sendOverAgent(a: AgentRequest): Promise<Response> {
  a.signal.throwIfAborted();
  const where = `${a.address}:${a.port}`;
  return new Promise<Response>((resolve, reject) => {
    let answered = false;
    let connectTimedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let res: IncomingMessage | undefined;
    const stopTimer = (): void => {
      clearTimeout(timer);
      timer = undefined;
    };
    const headers: Record<string, string> = {};
    for (const [n, v] of a.headers) headers[n] = v;
    // Stays attached while the body streams, so an abort also ends the response body.
    const onAbort = (): void => {
      creq.destroy();
      res?.destroy();
    };
    const creq = a.request({ agent: a.agent, host: a.address, port: a.port, method: a.method, path: a.path, headers, setHost: false }, (r) => {
      stopTimer();
      res = r;
      answered = true;
      r.once("close", () => a.signal.removeEventListener("abort", onAbort));
      try {
        resolve(toResponse(r, a.method));
      } catch (err) {
        r.destroy();
        reject(new UpstreamError("reset", `upstream ${where}: unusable response (${err instanceof Error ? err.message : String(err)})`, { cause: err }));
      }
    });
    a.signal.addEventListener("abort", onAbort, { once: true });
    if (a.connectTimeoutMs !== undefined) {
      const ms = a.connectTimeoutMs;
      timer = setTimeout(() => {
        connectTimedOut = true;
        creq.destroy(new Error("connect timeout"));
      }, ms);
      creq.once("socket", (s) => {
        if (creq.reusedSocket) stopTimer();
        else s.once(a.connectedEvent, stopTimer);
      });
    }
    creq.on("error", (err) => {
      stopTimer();
      if (answered) return; // a body error reaches the consumer through the response stream
      a.signal.removeEventListener("abort", onAbort);
      if (a.signal.aborted) return reject(a.signal.reason);
      if (connectTimedOut) return reject(new UpstreamError("connect-failure", `connect to ${where} timed out after ${a.connectTimeoutMs} ms`, { cause: err }));
      const kind = a.kindOf?.(err) ?? classifyNodeError(err);
      reject(new UpstreamError(kind, `upstream ${where}: ${err.message}`, { cause: err }));
    });
    if (a.body === null) creq.end();
    else void writeBody(creq, a.body);
  });
}
