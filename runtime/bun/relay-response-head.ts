// How a relayed response's head goes downstream: the framing it keeps or gets (length, chunked passed or decoded,
// close-delimited re-chunked), and its bytes: as received plus our request id when clean, else rewritten.
import { connectionTokens, isHopByHop } from "../../shared/http/hop-by-hop.ts";
import { FieldList } from "../../shared/http/field-list.ts";
import type { HeaderEdit } from "../../shared/filters/header-ops.ts";
import type { ResponseHead } from "./http1-head.ts";

/**
 * How the body goes: `length` as framed; `chunked` passed as received; `decode` de-chunked for an HTTP/1.0 caller;
 * `encode` a close-delimited body chunked for an HTTP/1.1 one, `raw` passed to an HTTP/1.0 one; `none` no body.
 */
export type ResponseOut = "length" | "chunked" | "decode" | "encode" | "raw" | "none";

export type DownstreamHead = {
  readonly out: ResponseOut;
  /** Body bytes of a length-framed response. */
  readonly length: number;
  /** The body's length where the head says it (length-framed, or no body): a request event's bytesOut. */
  readonly declared: number | undefined;
  /** The downstream connection stays open after this response. */
  readonly keepAlive: boolean;
  /** The app's x-mesh-error (a member behind it said why it failed). */
  readonly cause: string | undefined;
  /** True: the received head's bytes go as they came (without the blank line), then `text`; false: `text` is all of it. */
  readonly asReceived: boolean;
  readonly text: string;
};

const DIGITS_RE = /^[0-9]{1,15}$/;

/**
 * The downstream head for the app's `head`, answering `req` on a connection that may stay open (`keepAlive`).
 * `bodyAtHand`: body bytes came in the same read (a clean head goes out with them in one write).
 */
export function downstreamHead(
  head: ResponseHead,
  req: { readonly method: string; readonly version: string },
  keepAlive: boolean,
  requestId: string,
  edit: HeaderEdit | undefined,
  bodyAtHand: boolean,
): DownstreamHead {
  const v11 = req.version === "1.1";
  let out: ResponseOut = "none";
  let length = 0;
  let framing = "";
  let declared: number | undefined;
  const f = head.framing;
  if (f.kind === "length") {
    out = "length";
    length = declared = f.length;
    framing = `content-length: ${f.length}\r\n`;
  } else if (f.kind === "chunked") {
    out = v11 ? "chunked" : "decode";
    if (v11) framing = "transfer-encoding: chunked\r\n";
  } else if (f.kind === "close") {
    out = v11 ? "encode" : "raw";
    if (v11) framing = "transfer-encoding: chunked\r\n";
  } else {
    const noBody = req.method === "HEAD" || head.status === 204 || head.status === 304;
    const cl = req.method === "HEAD" ? head.fields.find(([n]) => n === "content-length")?.[1] : undefined;
    framing = noBody ? (cl !== undefined && DIGITS_RE.test(cl) ? `content-length: ${cl}\r\n` : "") : "content-length: 0\r\n";
    if (!noBody) declared = 0;
  }
  // Without framing, an HTTP/1.0 caller learns where the body ends only from our close.
  if (out === "decode" || out === "raw") keepAlive = false;
  let conn: string[] | undefined;
  let cause: string | undefined;
  // A length-framed HTTP/1.1 response to a kept-alive HTTP/1.1 request whose head has nothing hop-by-hop and no
  // request id but ours leaves as it came (plus our id): the common case, with no field re-serialized.
  let fields: ReadonlyArray<readonly [string, string]> = head.fields;
  if (edit !== undefined) {
    // A copy of the list, not of its pairs: FieldList replaces pairs, never edits one.
    const list = new FieldList(fields.slice());
    edit(list);
    fields = list.fields;
  }
  let clean = edit === undefined && out === "length" && bodyAtHand && v11 && keepAlive && head.version === "1.1";
  let hasId = false;
  for (const [n, v] of fields) {
    if (n === "connection") (conn ??= []).push(v);
    else if (n === "x-mesh-error") cause = v;
    else if (n === "x-request-id") {
      clean &&= v === requestId && !hasId;
      hasId = true;
    }
    if (clean && isHopByHop(n, undefined)) clean = false;
  }
  if (clean) return { out, length, declared, keepAlive, cause, asReceived: true, text: hasId ? "\r\n\r\n" : `\r\nx-request-id: ${requestId}\r\n\r\n` };
  const tokens = conn !== undefined ? connectionTokens(conn) : undefined;
  let s = `HTTP/1.1 ${head.status} ${head.statusText}\r\n`;
  for (const [n, v] of fields) {
    if (n === "content-length" || n === "x-request-id" || isHopByHop(n, tokens)) continue;
    s += `${n}: ${v}\r\n`;
  }
  s += `x-request-id: ${requestId}\r\n${framing}`;
  if (!keepAlive) s += "connection: close\r\n";
  else if (!v11) s += "connection: keep-alive\r\n";
  return { out, length, declared, keepAlive, cause, asReceived: false, text: `${s}\r\n` };
}
