// The access line written straight into a byte buffer, byte for byte what formatAccessLine's string becomes in UTF-8:
// for sinks that batch bytes (runtime/bun/log-sink.ts), so a line makes no string at all.
import type { RequestEvent } from "./observe.ts";

// Why: the string line is a rope of ~25 pieces per request, flattened again when the batch is joined; a same-length
// constant line instead of the formatted one cut the hop's CPU per request by ~7 % (same-round A/B, bench/README.md).

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const LEVEL_TIME = ascii('{"level":30,"time":');
const NAME = ascii(',"name":');
const LISTENER = ascii(',"listener":');
const METHOD = ascii(',"method":');
const PATH = ascii(',"path":');
const STATUS = ascii(',"status":');
const MS = ascii(',"ms":');
const REQUEST_ID = ascii(',"requestId":');
const ROUTE = ascii(',"route":');
const UPSTREAM = ascii(',"upstream":');
const ATTEMPTS = ascii(',"attempts":');
const CAUSE = ascii(',"cause":');
const PEER = ascii(',"peer":');
const FAULT = ascii(',"fault":"');
const TRACE_ID = ascii(',"traceId":"');
const SPAN_ID = ascii('","spanId":"');
const QUOTE = ascii('"');
const MSG = ascii(',"msg":"access"}\n');
const encoder = new TextEncoder();

/** `bytes` at `at`, or -1 past the end of `buf` (every writer here returns -1 once anything did not fit). */
function put(buf: Uint8Array, at: number, bytes: Uint8Array): number {
  if (at < 0 || at + bytes.length > buf.length) return -1;
  for (let i = 0; i < bytes.length; i++) buf[at + i] = bytes[i]!;
  return at + bytes.length;
}

/** `s` in UTF-8 (the rare case: an escaped value, or a number outside the digit loops). */
function utf8(buf: Uint8Array, at: number, s: string): number {
  if (at < 0) return -1;
  const r = encoder.encodeInto(s, buf.subarray(at));
  return r.read < s.length ? -1 : at + r.written;
}

/** Chars that are their own byte and need no escaping: as formatAccessLine's `str`, everything else is escaped. */
const plain = (c: number): boolean => c >= 0x20 && c < 0x7f && c !== 0x22 && c !== 0x5c;

/** A JSON string literal, as `str` in access-log.ts makes it. */
function jsonString(buf: Uint8Array, at: number, s: string): number {
  if (at < 0 || at + s.length + 2 > buf.length) return at < 0 ? -1 : utf8(buf, at, JSON.stringify(s));
  buf[at] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!plain(c)) return utf8(buf, at, JSON.stringify(s));
    buf[at + 1 + i] = c;
  }
  buf[at + 1 + s.length] = 0x22;
  return at + s.length + 2;
}

/** Chars copied as they are: ids this member generated or validated as hex, and the fault kinds. */
function raw(buf: Uint8Array, at: number, s: string, from = 0, to = s.length): number {
  const n = to - from;
  if (at < 0 || at + n > buf.length) return -1;
  for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(from + i);
  return at + n;
}

const digits = new Uint8Array(20);

/** `n` (an integer, 0 <= n < 2^31) in decimal, left-padded with zeros to `width` digits: int32 arithmetic only. */
function uint31(buf: Uint8Array, at: number, n: number, width: number): number {
  let k = 0;
  do {
    const q = (n / 10) | 0;
    digits[k++] = 0x30 + n - q * 10;
    n = q;
  } while (n > 0 || k < width);
  if (at < 0 || at + k > buf.length) return -1;
  for (let i = 0; i < k; i++) buf[at + i] = digits[k - 1 - i]!;
  return at + k;
}

/**
 * A number as `${n}` writes it; integers from 0 to 2^53 digit by digit, anything else through String(). Above 2^31
 * (every timestamp) in two int32 halves: digit by digit in doubles, `%` on a 13-digit time was ~45 % of a line's
 * cost (240 of 533 ns per line in a loop).
 */
function number(buf: Uint8Array, at: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER && Math.floor(n) === n) || Object.is(n, -0)) return utf8(buf, at, String(n));
  if (n < 2147483648) return uint31(buf, at, n, 1);
  // n < 2^53, so hi < 9.1e7 fits int32, and lo (exact: no rounding below 2^53) is printed as 8 digits.
  const hi = Math.floor(n / 1e8);
  return uint31(buf, uint31(buf, at, hi, 1), n - hi * 1e8, 8);
}

// The last time printed: a loaded member writes tens of lines within one millisecond, which then copy its digits.
const timeBytes = new Uint8Array(24);
let timeLength = 0;
let lastTime = Number.NaN;

/** `now` as number() writes it, from the copy when it is the last time printed. */
function time(buf: Uint8Array, at: number, now: number): number {
  if (now !== lastTime) {
    const end = number(timeBytes, 0, now);
    if (end < 0) return number(buf, at, now); // longer than any time (e.g. 1e+21): not kept
    lastTime = now;
    timeLength = end;
  }
  if (at < 0 || at + timeLength > buf.length) return -1;
  for (let i = 0; i < timeLength; i++) buf[at + i] = timeBytes[i]!;
  return at + timeLength;
}

/** Milliseconds to two decimals, as `${Math.round(ms * 100) / 100}` prints them (no trailing zeros). */
function millis(buf: Uint8Array, at: number, durationMs: number): number {
  const h = Math.round(durationMs * 100);
  if (!(h > 0 && h < 2 ** 31)) return h === 0 ? number(buf, at, 0) : utf8(buf, at, String(h / 100));
  at = number(buf, at, Math.floor(h / 100));
  const r = h % 100;
  if (r === 0 || at < 0 || at + 3 > buf.length) return r === 0 ? at : -1;
  buf[at++] = 0x2e;
  buf[at++] = 0x30 + Math.floor(r / 10);
  if (r % 10 !== 0) buf[at++] = 0x30 + (r % 10);
  return at;
}

/**
 * formatAccessLine(name, e, now) as UTF-8 into `buf` from `at`: the index past it, or -1 when it does not fit (the
 * bytes from `at` on are then garbage; the caller writes elsewhere or falls back to the string).
 */
export function encodeAccessLine(buf: Uint8Array, at: number, name: string, e: RequestEvent, now: number): number {
  let p = put(buf, at, LEVEL_TIME);
  p = time(buf, p, now);
  p = jsonString(buf, put(buf, p, NAME), name);
  p = jsonString(buf, put(buf, p, LISTENER), e.listener);
  p = jsonString(buf, put(buf, p, METHOD), e.method);
  p = jsonString(buf, put(buf, p, PATH), e.path);
  p = number(buf, put(buf, p, STATUS), e.status);
  p = millis(buf, put(buf, p, MS), e.durationMs);
  p = jsonString(buf, put(buf, p, REQUEST_ID), e.requestId);
  if (e.route !== undefined) p = jsonString(buf, put(buf, p, ROUTE), e.route);
  if (e.endpoint !== undefined) p = jsonString(buf, put(buf, p, UPSTREAM), e.endpoint);
  if (e.route !== undefined || e.attempts > 0) p = number(buf, put(buf, p, ATTEMPTS), e.attempts);
  if (e.cause !== undefined) p = jsonString(buf, put(buf, p, CAUSE), e.cause);
  if (e.peer !== undefined) p = jsonString(buf, put(buf, p, PEER), e.peer);
  if (e.fault !== undefined) p = put(buf, raw(buf, put(buf, p, FAULT), e.fault), QUOTE);
  const t = e.trace;
  if (t !== undefined) {
    // From the traceparent sent upstream when there is one: the hop's ids are never sliced out for an unsampled request.
    const tp = t.traceparent;
    p = tp === undefined ? raw(buf, put(buf, p, TRACE_ID), t.traceId) : raw(buf, put(buf, p, TRACE_ID), tp, 3, 35);
    p = put(buf, tp === undefined ? raw(buf, put(buf, p, SPAN_ID), t.spanId) : raw(buf, put(buf, p, SPAN_ID), tp, 36, 52), QUOTE);
  }
  return put(buf, p, MSG);
}
