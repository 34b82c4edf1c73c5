// Trace context on the wire: W3C `traceparent`/`tracestate` and both B3 forms, parsed without trusting the caller,
// and fresh ids. Runs on every request, sampled or not, so it allocates little and never throws.

/** A caller's span as its header named it: ids in lower-case hex, and its sampling decision when it made one. */
export type WireContext = { readonly traceId: string; readonly spanId: string; readonly sampled: boolean | undefined };

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(?:-|$)/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/** Whether a lower-case hex digit's value is odd: the sampled bit of a flags byte's low digit. */
const oddHexDigit = (code: number): boolean => (code <= 57 ? code - 48 : code - 87) % 2 === 1;

/** Whether chars [from, to) of `value` are all "0": an all-zero id, checked without slicing it out. */
function zeros(value: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (value.charCodeAt(i) !== 48) return false;
  return true;
}

/**
 * A valid W3C traceparent's sampled flag; undefined for anything invalid: version ff, upper-case hex, all-zero ids, a
 * version-00 value with extra fields, or two headers folded into one. Later versions are read as 00, as the spec asks.
 * Makes no string: a hop that continues the caller's trace reads the ids out of the header only when it needs them.
 */
export function traceparentSampled(value: string): boolean | undefined {
  // test, not exec: no match array or capture strings on a path every request takes.
  if (!TRACEPARENT.test(value)) return undefined;
  const v0 = value.charCodeAt(0);
  const v1 = value.charCodeAt(1);
  if (v0 === 102 && v1 === 102) return undefined; // "ff" is forbidden
  if (v0 === 48 && v1 === 48 && value.length !== 55) return undefined; // "00" has exactly four fields
  if (zeros(value, 3, 35) || zeros(value, 36, 52)) return undefined;
  return oddHexDigit(value.charCodeAt(54));
}

/** W3C traceparent as ids and flag (see traceparentSampled for what is refused). */
export function parseTraceparent(value: string): WireContext | undefined {
  const sampled = traceparentSampled(value);
  if (sampled === undefined) return undefined;
  return { traceId: value.slice(3, 35), spanId: value.slice(36, 52), sampled };
}

export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? "01" : "00"}`;
}

const TRACESTATE_MEMBER = /^[a-z0-9][_0-9a-z*/-]{0,255}(?:@[a-z][_0-9a-z*/-]{0,13})?=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * The tracestate to pass on, or undefined when it must be dropped: over 512 characters, over 32 members, or a member
 * that breaks the W3C grammar. We add no entry of our own, so a valid list travels unchanged.
 */
export function checkTracestate(value: string): string | undefined {
  if (value.length > 512) return undefined;
  const members = value.split(",");
  if (members.length > 32) return undefined;
  let kept = 0;
  for (const raw of members) {
    const member = raw.trim();
    if (member === "") continue; // empty list members are allowed and ignored
    if (!TRACESTATE_MEMBER.test(member)) return undefined;
    kept++;
  }
  return kept === 0 ? undefined : value;
}

const B3_SINGLE = /^([0-9a-f]{32}|[0-9a-f]{16})-([0-9a-f]{16})(?:-([01d])(?:-[0-9a-f]{16})?)?$/;

/** A B3 trace id may be 64 bits; W3C needs 128, so it is left-padded with zeros as OpenTelemetry's B3 reader does. */
function b3TraceId(id: string): string | undefined {
  const full = id.length === 16 ? `0000000000000000${id}` : id;
  return full === ZERO_TRACE ? undefined : full;
}

/**
 * The single `b3` header: `{traceId}-{spanId}[-{1|0|d}[-{parentSpanId}]]`, or a bare decision `1`, `0` or `d`
 * (returned as a boolean: a decision without a context). `d` (debug) counts as sampled.
 */
export function parseB3Single(value: string): WireContext | boolean | undefined {
  if (value.length === 1) return value === "1" || value === "d" ? true : value === "0" ? false : undefined;
  const m = B3_SINGLE.exec(value);
  if (m === null) return undefined;
  const traceId = b3TraceId(m[1]!);
  const spanId = m[2]!;
  if (traceId === undefined || spanId === ZERO_SPAN) return undefined;
  const state = m[3];
  return { traceId, spanId, sampled: state === undefined ? undefined : state !== "0" };
}

const HEX_ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const HEX_SPAN = /^[0-9a-f]{16}$/;

/** X-B3-Sampled: "1"/"0" (and "true"/"false", which older tracers sent); X-B3-Flags "1" is debug, i.e. sampled. */
function b3Decision(sampled: string | null, flags: string | null): boolean | undefined {
  if (flags === "1") return true;
  if (sampled === "1" || sampled === "true") return true;
  if (sampled === "0" || sampled === "false") return false;
  return undefined;
}

/**
 * The multi-header B3 form (X-B3-TraceId, X-B3-SpanId, X-B3-Sampled, X-B3-Flags). A decision without ids comes back
 * as a boolean; a trace id without a valid span id (or the reverse) is no context at all.
 */
export function parseB3Multi(traceId: string | null, spanId: string | null, sampled: string | null, flags: string | null): WireContext | boolean | undefined {
  const decision = b3Decision(sampled, flags);
  if (traceId === null && spanId === null) return decision;
  if (traceId === null || spanId === null || !HEX_ID.test(traceId) || !HEX_SPAN.test(spanId)) return undefined;
  const full = b3TraceId(traceId);
  if (full === undefined || spanId === ZERO_SPAN) return undefined;
  return { traceId: full, spanId, sampled: decision };
}

// Ids: random bytes from the Web Crypto API, 2 KiB at a time, turned into one 4096-character hex string; an id is a
// slice of it. Tens of nanoseconds per id, where building each from bytes took about a hundred and fifty.
const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");
const randomBytes = new Uint8Array(2048);
const hexCodes = new Uint8Array(randomBytes.length * 2);
const latin1 = new TextDecoder("latin1");
/** A record's fixed chars; the hex digits are written over the zeros. */
const RECORD_FRAME = new TextEncoder().encode(`00-${"0".repeat(32)}-${"0".repeat(16)}-00`);
let hex = "";
let at = 0;

/** `src[from, to)` as lower-case hex digits into `dst` from `out`. */
function writeHex(src: Uint8Array, from: number, to: number, dst: Uint8Array, out: number): void {
  for (let i = from; i < to; i++) {
    const b = src[i]!;
    dst[out++] = HEX_DIGITS[b >> 4]!;
    dst[out++] = HEX_DIGITS[b & 15]!;
  }
}

function randomHex(length: number): string {
  if (at + length > hex.length) {
    crypto.getRandomValues(randomBytes);
    writeHex(randomBytes, 0, randomBytes.length, hexCodes, 0);
    hex = latin1.decode(hexCodes);
    at = 0;
  }
  const id = hex.slice(at, at + length);
  at += length;
  return id;
}

export function newSpanId(): string {
  const id = randomHex(16);
  return id === ZERO_SPAN ? newSpanId() : id;
}

export function newTraceId(): string {
  const id = randomHex(32);
  return id === ZERO_TRACE ? newTraceId() : id;
}

// Whole traceparents of a new trace, unsampled ("00-{trace}-{span}-00", 55 chars each), written 64 at a time as
// bytes and decoded into one string: a hop that starts a trace takes one slice, not two ids and a string made of them.
const RECORD = 55;
const RECORDS = 64;
const recordBytes = new Uint8Array(RECORD * RECORDS);
const idBytes = new Uint8Array(24 * RECORDS); // per record 16 bytes of trace id, then 8 of span id
let records = "";
let recordAt = 0;


function allZero(from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (idBytes[i] !== 0) return false;
  return true;
}

function refillRecords(): void {
  crypto.getRandomValues(idBytes);
  for (let r = 0; r < RECORDS; r++) {
    const b = r * 24;
    // An all-zero id is invalid (odds: 2^-64 per record): that record's bytes are drawn again.
    while (allZero(b, b + 16) || allZero(b + 16, b + 24)) crypto.getRandomValues(idBytes.subarray(b, b + 24));
    const at = r * RECORD;
    recordBytes.set(RECORD_FRAME, at);
    writeHex(idBytes, b, b + 16, recordBytes, at + 3);
    writeHex(idBytes, b + 16, b + 24, recordBytes, at + 36);
  }
  records = latin1.decode(recordBytes);
  recordAt = 0;
}

/** A traceparent for a new trace with fresh ids; sampled ones end in "-01". */
export function newTraceparent(sampled: boolean): string {
  if (recordAt + RECORD > records.length) refillRecords();
  const tp = records.slice(recordAt, recordAt + RECORD);
  recordAt += RECORD;
  return sampled ? `${tp.slice(0, 53)}01` : tp;
}
