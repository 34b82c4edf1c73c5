// Strict HTTP/1.1 message-head parser for the mTLS transport (request heads inbound, response heads outbound).
// Strict on purpose: anything a smuggling attack needs (CL+TE, duplicate CL, obs-fold, bare CR/LF/NUL) is refused.
import { fastRequestHead, fastResponseHead } from "./http1-head-fast.ts";

export type BodyFraming = { readonly kind: "none" } | { readonly kind: "length"; readonly length: number } | { readonly kind: "chunked" };

export type RequestHead = {
  readonly method: string;
  readonly target: string;
  readonly version: "1.0" | "1.1";
  /** Field names lower-cased, in arrival order. */
  readonly fields: Array<[string, string]>;
  readonly host: string;
  readonly framing: BodyFraming;
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** Lower-cased tokens of the Connection field (names of extra hop-by-hop fields). */
  readonly connection: ReadonlySet<string> | undefined;
};

/** The blank line that ends a head, as bytes: a string needle is encoded again on every Buffer.indexOf (55 vs 24 ns). */
export const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

export type ResponseHead = {
  readonly status: number;
  readonly statusText: string;
  readonly version: "1.0" | "1.1";
  readonly fields: Array<[string, string]>;
  /** "close" = the body runs until the connection closes (no framing header on the response). */
  readonly framing: BodyFraming | { readonly kind: "close" };
  readonly keepAlive: boolean;
};

export type HeadError = { readonly error: true; readonly status: 400 | 417 | 501 | 505; readonly reason: string };

const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Request target: origin-form or absolute-form characters only; no spaces or controls.
const TARGET_RE = /^[\x21-\x7e]+$/;
const DIGITS_RE = /^[0-9]{1,15}$/;
const OWS_EDGES = /^[ \t]+|[ \t]+$/g;
const STATUS_LINE_RE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([\t\x20-\x7e\x80-\xff]*))?$/;

function fail(status: HeadError["status"], reason: string): HeadError {
  return { error: true, status, reason };
}

export function isHeadError(v: unknown): v is HeadError {
  return typeof v === "object" && v !== null && (v as { error?: unknown }).error === true;
}

/** tchar (RFC 9110 5.6.2) by char code: a table walk is cheaper per field than a regex over each name. */
const TCHAR = new Uint8Array(128);
for (const ch of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[ch.charCodeAt(0)] = 1;

function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return false;
  }
  return true;
}

/**
 * Header lines of a head (text between the start line and the blank line), validated. Values were checked for
 * control characters once for the whole head (splitLines), so only names, folding and framing fields are checked here.
 */
function parseFields(lines: string[]): Array<[string, string]> | HeadError {
  const fields: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const c0 = line.charCodeAt(0);
    if (c0 === 0x20 || c0 === 0x09) return fail(400, "obsolete line folding");
    const colon = line.indexOf(":");
    if (colon <= 0) return fail(400, "malformed header line");
    const name = line.slice(0, colon);
    if (!isToken(name)) return fail(400, "invalid header name");
    // Only SP and HTAB are optional whitespace (RFC 9110 5.5); String.trim() would also eat VT, FF and NBSP,
    // turning "Transfer-Encoding: \x0bchunked" into chunked where llhttp refuses it (differential test).
    let value = line.slice(colon + 1);
    if (isOws(value.charCodeAt(0)) || isOws(value.charCodeAt(value.length - 1))) value = value.replace(OWS_EDGES, "");
    const lower = name.toLowerCase();
    // A trailing HTAB on a framing field is refused: a front end that doesn't read "chunked\t" as chunked would
    // pass the body on as the next request (llhttp tolerates only SP there).
    if ((lower === "transfer-encoding" || lower === "content-length") && /\t[ \t]*$/.test(line)) return fail(400, `trailing tab in ${lower}`);
    fields.push([lower, value]);
  }
  return fields;
}

const isOws = (c: number): boolean => c === 0x20 || c === 0x09;
// A CR not followed by LF, an LF not preceded by CR, or a NUL: one scan of the whole head instead of one per line.
const BARE_CR_LF_NUL = /\r(?!\n)|(?<!\r)\n|\0/;
// Controls other than HTAB, CR and LF (those two are only allowed as CRLF, checked above) are refused anywhere in a
// head: field values may carry visible ASCII, SP, HTAB and obs-text only, and the start line is stricter still.
const CONTROL = /[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** Splits on CRLF and refuses bare CR or LF, NUL and other controls anywhere in the head. */
function splitLines(text: string): string[] | HeadError {
  if (BARE_CR_LF_NUL.test(text)) return fail(400, "bare CR, LF or NUL in head");
  if (CONTROL.test(text)) return fail(400, "invalid header value");
  return text.split("\r\n");
}

type FramingInfo = { framing: BodyFraming; connection: string[] } | HeadError;

function framingOf(fields: Array<[string, string]>, version: "1.0" | "1.1"): FramingInfo {
  let cl: string | undefined;
  let te: string | undefined;
  const connection: string[] = [];
  for (const [n, v] of fields) {
    if (n === "content-length") {
      if (cl !== undefined) return fail(400, "duplicate Content-Length");
      cl = v;
    } else if (n === "transfer-encoding") {
      if (te !== undefined) return fail(400, "duplicate Transfer-Encoding");
      te = v;
    } else if (n === "connection") {
      for (const t of v.split(",")) {
        const tok = t.replace(OWS_EDGES, "").toLowerCase();
        if (tok.length > 0) connection.push(tok);
      }
    }
  }
  if (te !== undefined) {
    if (cl !== undefined) return fail(400, "both Content-Length and Transfer-Encoding");
    if (version === "1.0") return fail(400, "Transfer-Encoding in HTTP/1.0");
    if (te.toLowerCase() !== "chunked") return fail(501, "unsupported Transfer-Encoding");
    return { framing: { kind: "chunked" }, connection };
  }
  if (cl !== undefined) {
    if (!DIGITS_RE.test(cl)) return fail(400, "invalid Content-Length");
    const length = Number(cl);
    return { framing: length === 0 ? { kind: "none" } : { kind: "length", length }, connection };
  }
  return { framing: { kind: "none" }, connection };
}

function keepAliveOf(version: "1.0" | "1.1", connection: string[]): boolean {
  if (connection.includes("close")) return false;
  return version === "1.1" || connection.includes("keep-alive");
}

/** `text` is the head decoded as latin1, without the final CRLFCRLF. */
export function parseRequestHead(text: string): RequestHead | HeadError {
  return fastRequestHead(text) ?? strictRequestHead(text);
}

/** The whole rule set, with the reason for every refusal; what the fast reader hands anything unusual to. */
export function strictRequestHead(text: string): RequestHead | HeadError {
  const lines = splitLines(text);
  if (isHeadError(lines)) return lines;
  const start = lines[0]!;
  const sp1 = start.indexOf(" ");
  const sp2 = start.indexOf(" ", sp1 + 1);
  if (sp1 <= 0 || sp2 < 0 || start.indexOf(" ", sp2 + 1) >= 0) return fail(400, "malformed request line");
  const method = start.slice(0, sp1);
  const target = start.slice(sp1 + 1, sp2);
  const proto = start.slice(sp2 + 1);
  if (!TOKEN_RE.test(method)) return fail(400, "invalid method");
  // Methods are case-sensitive; the Fetch API would quietly upper-case "get", so a lower-case one is refused.
  if (method !== method.toUpperCase()) return fail(400, "method must be upper-case");
  if (!TARGET_RE.test(target)) return fail(400, "invalid request target");
  let version: "1.0" | "1.1";
  if (proto === "HTTP/1.1") version = "1.1";
  else if (proto === "HTTP/1.0") version = "1.0";
  else if (/^HTTP\/[0-9]\.[0-9]$/.test(proto)) return fail(505, "unsupported HTTP version");
  else return fail(400, "malformed request line");
  if (method === "CONNECT") return fail(501, "CONNECT is not supported");
  const form = targetForm(target, method);
  if (isHeadError(form)) return form;
  const fields = parseFields(lines);
  if (isHeadError(fields)) return fields;
  const fr = framingOf(fields, version);
  if (isHeadError(fr)) return fr;
  let host: string | undefined;
  let expectContinue = false;
  for (const [n, v] of fields) {
    if (n === "host") {
      if (host !== undefined) return fail(400, "duplicate Host");
      host = v;
    } else if (n === "expect") {
      if (v.toLowerCase() !== "100-continue") return fail(417, "unsupported Expect");
      expectContinue = true;
    }
  }
  if (host === undefined) {
    if (version === "1.1") return fail(400, "missing Host");
    host = "";
  }
  if (!/^[A-Za-z0-9.\-_~!$&'()*+,;=%:[\]]*$/.test(host)) return fail(400, "invalid Host");
  // RFC 9112 3.2.2 lets the authority of an absolute-form target override Host; two names for one request
  // are ambiguous (one hop may route by one, the next by the other), so they must agree.
  if (form.authority !== undefined && form.authority.toLowerCase() !== host.toLowerCase()) {
    return fail(400, "request target authority and Host differ");
  }
  const connection = fr.connection.length > 0 ? new Set(fr.connection) : undefined;
  return { method, target: form.path, version, fields, host, framing: fr.framing, keepAlive: keepAliveOf(version, fr.connection), expectContinue, connection };
}

const ABSOLUTE_RE = /^https?:\/\/([^/?#@]+)([/?].*)?$/i;

/** Origin-form, `OPTIONS *`, or absolute-form (a forward-proxy client); returns the path+query and any authority. */
function targetForm(target: string, method: string): { path: string; authority: string | undefined } | HeadError {
  if (target[0] === "/") return { path: target, authority: undefined };
  if (method === "OPTIONS" && target === "*") return { path: target, authority: undefined };
  const m = ABSOLUTE_RE.exec(target);
  if (m === null) return fail(400, "request target must be origin-form or absolute-form http(s)://authority/path");
  const rest = m[2] ?? "/";
  return { path: rest[0] === "?" ? "/" + rest : rest, authority: m[1]! };
}

/** Response framing also depends on the request: HEAD, 1xx, 204 and 304 never carry a body. */
export function parseResponseHead(text: string, requestMethod: string): ResponseHead | HeadError {
  return fastResponseHead(text, requestMethod) ?? strictResponseHead(text, requestMethod);
}

export function strictResponseHead(text: string, requestMethod: string): ResponseHead | HeadError {
  const lines = splitLines(text);
  if (isHeadError(lines)) return lines;
  const m = STATUS_LINE_RE.exec(lines[0]!);
  if (!m) return fail(400, "malformed status line");
  const version = m[1] === "1" ? "1.1" : "1.0";
  const status = Number(m[2]);
  const fields = parseFields(lines);
  if (isHeadError(fields)) return fields;
  const fr = framingOf(fields, version);
  if (isHeadError(fr)) return fr;
  const noBody = requestMethod === "HEAD" || status < 200 || status === 204 || status === 304;
  const declared = fields.some(([n]) => n === "content-length" || n === "transfer-encoding");
  const framing = noBody ? ({ kind: "none" } as const) : declared ? fr.framing : ({ kind: "close" } as const);
  const keepAlive = framing.kind !== "close" && keepAliveOf(version, fr.connection);
  return { status, statusText: m[3] ?? "", version, fields, framing, keepAlive };
}
