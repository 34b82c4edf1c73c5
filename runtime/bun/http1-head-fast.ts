// One-pass reader for the ordinary HTTP/1.1 head (the shapes every mesh hop sends), in front of the strict parser.
// It never refuses anything itself: any character or shape it doesn't expect sends the head to the strict parser.
import type { BodyFraming, RequestHead, ResponseHead } from "./http1-head.ts";
import { knownFieldName, knownMethod } from "./known-field-names.ts";

// The strict parser took 1.2–2.2 µs per head (two regex scans, split, a slice and a lower-case per line, three loops
// over the fields); heads were 14–19 % of each sidecar's samples in the pair profile. This reads each char once.
/** Bits of CLASS: a name char (tchar, RFC 9110 5.6.2), a value char (field-vchar, SP, HTAB), an upper-case letter. */
export const NAME = 1;
export const VALUE = 2;
const UPPER = 4;
/** Each byte's class; shared with the response judge (http1-response-judge.ts), which must accept no more than this. */
export const CLASS = new Uint8Array(256);
for (let c = 0x20; c <= 0x7e; c++) CLASS[c] = VALUE;
for (let c = 0x80; c <= 0xff; c++) CLASS[c] = VALUE;
CLASS[0x09] = VALUE;
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") CLASS[ch.charCodeAt(0)] = VALUE | NAME;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = VALUE | NAME | UPPER;

const CR = 13;
const LF = 10;
const COLON = 58;
const SP = 32;
const HTAB = 9;

/** Header lines from `from` to the end of `text`; undefined for anything the strict parser must judge. */
function scanFields(text: string, from: number): Array<[string, string]> | undefined {
  const fields: Array<[string, string]> = [];
  const end = text.length;
  // A start line followed by CRLF and nothing: an empty field line, which the strict parser refuses.
  if (from >= end) return undefined;
  let i = from;
  while (i < end) {
    const nameStart = i;
    let upper = 0;
    let c = 0;
    while (i < end) {
      c = text.charCodeAt(i);
      const k = CLASS[c]!;
      if ((k & NAME) === 0) break;
      upper |= k;
      i++;
    }
    if (i === nameStart || c !== COLON) return undefined;
    const name =
      knownFieldName(text, nameStart, i) ?? ((upper & UPPER) === 0 ? text.slice(nameStart, i) : text.slice(nameStart, i).toLowerCase());
    i++;
    while (i < end && ((c = text.charCodeAt(i)) === SP || c === HTAB)) i++;
    const valueStart = i;
    let valueEnd = i;
    while (i < end) {
      c = text.charCodeAt(i);
      if (c === CR) break;
      if ((CLASS[c]! & VALUE) === 0) return undefined;
      i++;
      if (c !== SP && c !== HTAB) valueEnd = i;
    }
    // Whitespace after a framing field's value (the trailing-tab refusal) and a value-less one are the strict parser's.
    if ((valueEnd !== i || valueEnd === valueStart) && (name === "content-length" || name === "transfer-encoding")) return undefined;
    fields.push([name, text.slice(valueStart, valueEnd)]);
    if (i < end) {
      if (text.charCodeAt(i + 1) !== LF) return undefined;
      i += 2;
      if (i >= end) return undefined;
    }
  }
  return fields;
}

type Framed = { framing: BodyFraming; declared: boolean; connection: string[] | undefined; host: string | undefined };
const NONE: BodyFraming = { kind: "none" };
const CHUNKED: BodyFraming = { kind: "chunked" };
const DIGITS_RE = /^[0-9]{1,15}$/;
// Not String.trim(): that would also eat NBSP (obs-text) where the strict parser keeps it.
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;

/** Framing, Connection tokens and Host in one loop; undefined for any conflict, duplicate or Expect. */
function framingOf(fields: Array<[string, string]>, version: "1.0" | "1.1"): Framed | undefined {
  let cl: string | undefined;
  let te: string | undefined;
  let host: string | undefined;
  let connection: string[] | undefined;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const n = f[0];
    if (n === "host") {
      if (host !== undefined) return undefined;
      host = f[1];
    } else if (n === "content-length") {
      if (cl !== undefined) return undefined;
      cl = f[1];
    } else if (n === "transfer-encoding") {
      if (te !== undefined) return undefined;
      te = f[1];
    } else if (n === "connection") {
      for (const t of f[1].split(",")) {
        const tok = t.replace(OWS_EDGES, "").toLowerCase();
        if (tok.length > 0) (connection ??= []).push(tok);
      }
    } else if (n === "expect") return undefined;
  }
  if (te !== undefined) {
    if (cl !== undefined || version === "1.0" || te.toLowerCase() !== "chunked") return undefined;
    return { framing: CHUNKED, declared: true, connection, host };
  }
  if (cl !== undefined) {
    if (!DIGITS_RE.test(cl)) return undefined;
    const length = Number(cl);
    return { framing: length === 0 ? NONE : { kind: "length", length }, declared: true, connection, host };
  }
  return { framing: NONE, declared: false, connection, host };
}

function keepAliveOf(version: "1.0" | "1.1", connection: string[] | undefined): boolean {
  if (connection === undefined) return version === "1.1";
  if (connection.includes("close")) return false;
  return version === "1.1" || connection.includes("keep-alive");
}

const HOST_RE = /^[A-Za-z0-9.\-_~!$&'()*+,;=%:[\]]*$/;

/** An origin-form request with well-formed fields and no Expect; undefined = let the strict parser decide. */
export function fastRequestHead(text: string): RequestHead | undefined {
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  const sp1 = text.indexOf(" ");
  if (sp1 <= 0 || sp1 >= lineEnd) return undefined;
  const sp2 = text.indexOf(" ", sp1 + 1);
  if (sp2 < 0 || sp2 >= lineEnd || lineEnd - sp2 !== 9) return undefined;
  const method = knownMethod(text, sp1);
  if (method === undefined || text.charCodeAt(sp1 + 1) !== 0x2f /* / */) return undefined;
  for (let i = sp1 + 2; i < sp2; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return undefined;
  }
  // lineEnd - sp2 is 9: the version is the 8 chars after sp2, compared in place.
  const version =
    text.startsWith("HTTP/1.1", sp2 + 1) ? "1.1" : text.startsWith("HTTP/1.0", sp2 + 1) ? "1.0" : undefined;
  if (version === undefined) return undefined;
  const fields = lineEnd === text.length ? [] : scanFields(text, lineEnd + 2);
  if (fields === undefined) return undefined;
  const fr = framingOf(fields, version);
  if (fr === undefined) return undefined;
  let host = fr.host;
  if (host === undefined) {
    if (version === "1.1") return undefined;
    host = "";
  } else if (!HOST_RE.test(host)) return undefined;
  const connection = fr.connection === undefined ? undefined : new Set(fr.connection);
  return {
    method,
    target: text.slice(sp1 + 1, sp2),
    version,
    fields,
    host,
    framing: fr.framing,
    keepAlive: keepAliveOf(version, fr.connection),
    expectContinue: false,
    connection,
  };
}

/** "HTTP/1.x NNN reason" with a visible-ASCII reason and well-formed fields; undefined = the strict parser decides. */
export function fastResponseHead(text: string, requestMethod: string): ResponseHead | undefined {
  let lineEnd = text.indexOf("\r\n");
  if (lineEnd < 0) lineEnd = text.length;
  if (lineEnd < 12 || !text.startsWith("HTTP/1.") || text.charCodeAt(8) !== SP) return undefined;
  const minor = text.charCodeAt(7);
  if (minor !== 0x30 && minor !== 0x31) return undefined;
  const d0 = text.charCodeAt(9) - 0x30;
  const d1 = text.charCodeAt(10) - 0x30;
  const d2 = text.charCodeAt(11) - 0x30;
  if (d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return undefined;
  let statusText = "";
  if (lineEnd > 12) {
    if (text.charCodeAt(12) !== SP) return undefined;
    for (let i = 13; i < lineEnd; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) return undefined;
    }
    // "OK" is nearly every answer's reason: the constant, not a new string per response.
    statusText = lineEnd === 15 && text.startsWith("OK", 13) ? "OK" : text.slice(13, lineEnd);
  }
  const version = minor === 0x31 ? "1.1" : "1.0";
  const status = d0 * 100 + d1 * 10 + d2;
  const fields = lineEnd === text.length ? [] : scanFields(text, lineEnd + 2);
  if (fields === undefined) return undefined;
  const fr = framingOf(fields, version);
  if (fr === undefined) return undefined;
  const noBody = requestMethod === "HEAD" || status < 200 || status === 204 || status === 304;
  const framing = noBody ? NONE : fr.declared ? fr.framing : ({ kind: "close" } as const);
  const keepAlive = framing.kind !== "close" && keepAliveOf(version, fr.connection);
  return { status, statusText, version, fields, framing, keepAlive };
}
