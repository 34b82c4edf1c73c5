// Checks that a run of percent-escapes spells one well-formed UTF-8 sequence (RFC 3629), without decoding it.
// Used by canonical-path.ts: a lenient decoder upstream could read an overlong "%c0%ae" as "." and climb a directory.

/** The value of one hex digit (either case), or -1. */
export function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** The byte `escape` + two hex digits at `at` stands for, or -1 when there is no such escape there. */
function escapedByte(s: string, at: number, escape: string): number {
  if (!s.startsWith(escape, at)) return -1;
  const hi = hexValue(s.charCodeAt(at + escape.length));
  const lo = hexValue(s.charCodeAt(at + escape.length + 1));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/**
 * How many escaped bytes, starting with the one at `at` (a byte >= 0x80), form one valid UTF-8 character;
 * 0 when they do not. `escape` is "%" for a single encoding, "%25" to read a double encoding ("%25C3%25A9").
 * Refused as RFC 3629 requires: lone continuation bytes, overlong forms (C0, C1, E0 80-9F, F0 80-8F), UTF-16
 * surrogates (ED A0-BF), code points above U+10FFFF (F4 90+, F5-FF) and sequences cut short.
 */
export function utf8EscapeLength(s: string, at: number, escape: "%" | "%25"): number {
  const lead = escapedByte(s, at, escape);
  let need: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) need = 1;
  else if (lead >= 0xe0 && lead <= 0xef) need = 2;
  else if (lead >= 0xf0 && lead <= 0xf4) need = 3;
  else return 0;
  // RFC 3629's table: these four leads narrow the second byte, which is what rules out overlong forms,
  // surrogates and code points past U+10FFFF.
  if (lead === 0xe0) lo = 0xa0;
  else if (lead === 0xed) hi = 0x9f;
  else if (lead === 0xf0) lo = 0x90;
  else if (lead === 0xf4) hi = 0x8f;
  const step = escape.length + 2;
  for (let k = 1; k <= need; k++) {
    const b = escapedByte(s, at + k * step, escape);
    if (b < lo || b > hi) return 0;
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}
