// The relay's common response judged on its bytes: an HTTP/1.1 answer framed by Content-Length with nothing
// hop-by-hop and no request id but ours passes as received, with no string or field list made for it.
import { CLASS, NAME, VALUE } from "./http1-head-fast.ts";

// Parsing each such head into strings and [name, value] pairs (http1-head-fast.ts) was ~5 % of a sidecar's samples
// in the pair profile, for heads the relay then sends on unchanged. Anything this doesn't recognise goes to that reader.
export type CleanResponse = {
  readonly status: number;
  /** The Content-Length: more than 0. */
  readonly length: number;
  /** The head already carries our request id (once, with our value). */
  readonly hasId: boolean;
};

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const HTTP11 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e, 0x31, SP]; // "HTTP/1.1 "

const enc = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const CONTENT_LENGTH = enc("content-length");
const REQUEST_ID = enc("x-request-id");
const MESH_ERROR = enc("x-mesh-error");
const PROXY = enc("proxy-");
// shared/http/hop-by-hop.ts's list, and Expect, which the reader hands to the strict parser.
const HOP = ["connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "proxy-connection", "expect", "http2-settings"].map(enc);

/** b[from..to) equals `lower` ignoring ASCII case (b holds only tchars there: `| 0x20` can't confuse two of them). */
function named(b: Uint8Array, from: number, to: number, lower: Uint8Array): boolean {
  if (to - from !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((b[from + i]! | 0x20) !== lower[i]) return false;
  return true;
}

function hopByHop(b: Uint8Array, from: number, to: number): boolean {
  if (to - from > PROXY.length && named(b, from, from + PROXY.length, PROXY)) return true;
  for (const h of HOP) if (named(b, from, to, h)) return true;
  return false;
}

function same(b: Uint8Array, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let i = 0; i < s.length; i++) if (b[from + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * `b[0..end)`: a response head without its blank line. The facts the relay needs when it is clean for `requestId`:
 * status 200–599 other than 204 and 304, no Transfer-Encoding, one Content-Length above 0, nothing hop-by-hop, no
 * x-mesh-error, at most one x-request-id equal to ours, and only what the one-pass reader accepts. Else undefined.
 */
export function judgeCleanResponse(b: Uint8Array, end: number, requestId: string): CleanResponse | undefined {
  if (end < 12) return undefined;
  for (let i = 0; i < HTTP11.length; i++) if (b[i] !== HTTP11[i]) return undefined;
  const d0 = b[9]! - 0x30;
  const d1 = b[10]! - 0x30;
  const d2 = b[11]! - 0x30;
  if (d0 < 2 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return undefined;
  const status = d0 * 100 + d1 * 10 + d2;
  if (status === 204 || status === 304) return undefined;
  let i = 12;
  if (b[i] === SP) {
    for (i++; i < end && b[i] !== CR; i++) if (b[i]! < 0x20 || b[i]! > 0x7e) return undefined;
  } else if (b[i] !== CR) return undefined;
  // No field lines means no Content-Length.
  if (i + 2 >= end || b[i + 1] !== LF) return undefined;
  i += 2;
  let length = -1;
  let hasId = false;
  while (i < end) {
    const nameStart = i;
    while (i < end && (CLASS[b[i]!]! & NAME) !== 0) i++;
    if (i === nameStart || i >= end || b[i] !== COLON) return undefined;
    const nameEnd = i;
    i++;
    while (i < end && (b[i] === SP || b[i] === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    while (i < end) {
      const c = b[i]!;
      if (c === CR) break;
      if ((CLASS[c]! & VALUE) === 0) return undefined;
      i++;
      if (c !== SP && c !== HTAB) valueEnd = i;
    }
    if (named(b, nameStart, nameEnd, CONTENT_LENGTH)) {
      // Duplicates, whitespace after the value or anything but 1–15 digits: the parsers decide.
      if (length >= 0 || valueEnd !== i || valueEnd === valueStart || valueEnd - valueStart > 15) return undefined;
      length = 0;
      for (let k = valueStart; k < valueEnd; k++) {
        const d = b[k]! - 0x30;
        if (d < 0 || d > 9) return undefined;
        length = length * 10 + d;
      }
    } else if (named(b, nameStart, nameEnd, REQUEST_ID)) {
      if (hasId || !same(b, valueStart, valueEnd, requestId)) return undefined;
      hasId = true;
    } else if (named(b, nameStart, nameEnd, MESH_ERROR) || hopByHop(b, nameStart, nameEnd)) return undefined;
    if (i < end) {
      if (i + 1 >= end || b[i + 1] !== LF) return undefined;
      i += 2;
      if (i >= end) return undefined;
    }
  }
  return length > 0 ? { status, length, hasId } : undefined;
}
