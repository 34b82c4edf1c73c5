// A relayed request's head for the app, written as bytes: the start line, the planned fields and the framing the
// relay gives the body, char by char into a buffer, so no string is made for it (as the access line, shared/telemetry).

// Why: the head was a template per field appended to a rope, two strings per field plus the start line and the end,
// flattened again by the write: 10-14 strings of each relayed request (bench/README.md, objects per request).

export type RequestFraming = { readonly kind: "none" | "chunked" } | { readonly kind: "length"; readonly length: number };

const CRLF_LENGTH = 2;
const VERSION = " HTTP/1.1\r\n";
const CONTENT_LENGTH = "content-length: ";
const CHUNKED = "transfer-encoding: chunked\r\n";

function digitCount(n: number): number {
  let d = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) d++;
  return d;
}

/** The head's length in bytes: what writeRequestHead will write (one byte per char, as latin1). */
export function requestHeadLength(method: string, target: string, fields: ReadonlyArray<readonly [string, string]>, f: RequestFraming): number {
  let n = method.length + 1 + target.length + VERSION.length;
  for (let i = 0; i < fields.length; i++) n += fields[i]![0].length + 2 + fields[i]![1].length + CRLF_LENGTH;
  if (f.kind === "length") n += CONTENT_LENGTH.length + digitCount(f.length) + CRLF_LENGTH;
  else if (f.kind === "chunked") n += CHUNKED.length;
  return n + CRLF_LENGTH;
}

/** Each char's low byte, as Buffer's latin1 write does; returns the offset past them. */
function put(b: Uint8Array, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
  return at + s.length;
}

function crlf(b: Uint8Array, at: number): number {
  b[at] = 13;
  b[at + 1] = 10;
  return at + 2;
}

/** Writes the head into `b` from 0 (which has requestHeadLength bytes of room); returns the bytes written. */
export function writeRequestHead(b: Uint8Array, method: string, target: string, fields: ReadonlyArray<readonly [string, string]>, f: RequestFraming): number {
  let p = put(b, 0, method);
  b[p++] = 32;
  p = put(b, put(b, p, target), VERSION);
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    p = put(b, p, field[0]);
    b[p++] = 58; // ":"
    b[p++] = 32;
    p = crlf(b, put(b, p, field[1]));
  }
  if (f.kind === "length") {
    p = put(b, p, CONTENT_LENGTH);
    const end = p + digitCount(f.length);
    // Digits from the last: the length is an integer below 2^53 (the parser takes at most 15 digits).
    for (let n = f.length, i = end - 1; i >= p; i--, n = Math.floor(n / 10)) b[i] = 48 + (n % 10);
    p = crlf(b, end);
  } else if (f.kind === "chunked") p = put(b, p, CHUNKED);
  return crlf(b, p);
}
