// Turns a received request path into the one canonical form that the route table matches AND that is forwarded,
// so the mesh and the upstream can never disagree about which path a request is for (path-confusion attacks).

// The policy, rule by rule with examples and how it differs from Envoy, is docs/path-normalization.md. In short:
// - must start with "/"; "#" anywhere in the target, raw control chars, raw "\" and invalid "%" sequences: refused;
// - percent-encodings are decoded exactly once, and only for unreserved chars (A-Z a-z 0-9 - . _ ~); every other
//   encoding is kept, with upper-case hex ("%c3%a9" -> "%C3%A9"); encoded bytes >= 0x80 must spell valid UTF-8;
// - encoded "/" (%2F), "\" (%5C), NUL/control chars (%00-%1F, %7F) are refused, and so is a double encoding of any
//   of those, of "." or ";", or of invalid UTF-8 ("%252F", "%252e", "%25c0%25ae"): an upstream that decodes twice
//   would otherwise see a different path than the one we routed;
// - raw space, non-ASCII and the other chars WHATWG URL would encode in a path are percent-encoded (UTF-8),
//   so a raw target and `new URL(...).pathname` canonicalise identically;
// - dot-segments ("." / "..", also spelt "%2e"), and segments that are one before a path parameter ("..;x"), are
//   refused, never resolved: upstreams resolve them differently (or not at all), so no answer is safe but "no";
// - empty segments ("//") are refused; the refusal then carries the slash-merged path, which only a route that
//   opted into mergeSlashes may accept (shared/routing/route-path.ts). A trailing "/" is not an empty segment.

import { hexValue, utf8EscapeLength } from "./utf8-escapes.ts";

export type CanonicalPath =
  | { readonly ok: true; readonly path: string }
  | {
      readonly ok: false;
      readonly reason: string;
      /** Set only when the sole problem is empty segments: the canonical path with repeated "/" merged. */
      readonly merged: string | undefined;
    };

/** Bytes that may appear as-is in a canonical path (RFC 3986 pchar minus "%", plus "/"). */
const PLAIN = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/") PLAIN[ch.charCodeAt(0)] = 1;
// Not valid pchars, but WHATWG URL leaves them unencoded in paths; keep them so URL-parsed input stays unchanged.
for (const ch of "[]|") PLAIN[ch.charCodeAt(0)] = 1;

const UNRESERVED = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") UNRESERVED[ch.charCodeAt(0)] = 1;

const SLASH = 0x2f;
const DOT = 0x2e;
const PERCENT = 0x25;
const BACKSLASH = 0x5c;
const HASH = 0x23;
const SEMICOLON = 0x3b;
const HEX = "0123456789ABCDEF";
const utf8 = new TextEncoder();

/** A decoded byte that must never be smuggled in encoded form: "/", "\", NUL and other control chars. */
function isDangerousByte(byte: number): boolean {
  return byte === SLASH || byte === BACKSLASH || byte < 0x20 || byte === 0x7f;
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

const fail = (reason: string): CanonicalPath => ({ ok: false, reason, merged: undefined });

// A fragment is never part of a request (RFC 9110 4.2.4); one that arrives anyway lands in the path or the query
// depending on the listener, and was forwarded as "%23..." so the upstream saw another resource than we routed.
const FRAGMENT = "'#' is not allowed in a request target";

/**
 * Whether `pathname` is canonical as it stands and `search` has no "#": the common request, checked without making
 * anything (canonicalizePath's answer for it would be `pathname` itself). Plain chars only, no "//", no segment
 * starting with ".".
 */
export function isCanonicalPath(pathname: string, search: string): boolean {
  if (pathname.charCodeAt(0) !== SLASH || search.includes("#")) return false;
  let prev = SLASH;
  for (let i = 1; i < pathname.length; i++) {
    const code = pathname.charCodeAt(i);
    if (code >= 128 || PLAIN[code] === 0) return false;
    if (prev === SLASH && (code === SLASH || code === DOT)) return false;
    prev = code;
  }
  return true;
}

/**
 * `pathname` is the path as received (no query); `search` the query with its "?", or "". The search is only
 * checked for "#"; everything else about it is the route's business.
 */
export function canonicalizePath(pathname: string, search: string): CanonicalPath {
  if (isCanonicalPath(pathname, search)) return { ok: true, path: pathname };
  if (search.includes("#")) return fail(FRAGMENT);
  if (pathname.charCodeAt(0) !== SLASH) return fail("path must start with '/'");
  return slowPath(pathname);
}

function slowPath(pathname: string): CanonicalPath {
  // Pass 1: decode once / normalise / encode, char by char.
  let out = "";
  for (let i = 0; i < pathname.length; i++) {
    const code = pathname.charCodeAt(i);
    if (code === PERCENT) {
      const hi = hexValue(pathname.charCodeAt(i + 1));
      const lo = hexValue(pathname.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return fail(`invalid percent-encoding at offset ${i}`);
      const byte = hi * 16 + lo;
      if (byte >= 0x80) {
        const n = utf8EscapeLength(pathname, i, "%");
        if (n === 0) return fail(`percent-encoding at offset ${i} is not valid UTF-8`);
        out += pathname.slice(i, i + 3 * n).toUpperCase();
        i += 3 * n - 1;
        continue;
      }
      if (isDangerousByte(byte)) return fail(`encoded ${describeByte(byte)} is not allowed`);
      if (UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
      else out += "%" + HEX[hi] + HEX[lo];
      i += 2;
    } else if (code === HASH) {
      return fail(FRAGMENT);
    } else if (code === BACKSLASH) {
      return fail("backslash is not allowed in a path");
    } else if (isControl(code)) {
      return fail("control characters are not allowed in a path");
    } else if (code < 128 && PLAIN[code] === 1) {
      out += pathname[i];
    } else {
      // Space, quotes, braces, non-ASCII...: encode like WHATWG URL does (UTF-8, upper-case hex).
      const cp = pathname.codePointAt(i) ?? code;
      if (cp > 0xffff) i++;
      if (cp >= 0xd800 && cp <= 0xdfff) return fail("lone surrogate in path");
      for (const b of utf8.encode(String.fromCodePoint(cp))) out += "%" + HEX[b >> 4] + HEX[b & 15];
    }
  }
  const doubled = doubleEncoding(out);
  if (doubled !== undefined) return fail(doubled);
  return checkSegments(out);
}

/** Pass 2: a "%25" left after decoding is a literal "%"; what it introduces must be harmless if decoded again. */
function doubleEncoding(out: string): string | undefined {
  for (let at = out.indexOf("%25"); at >= 0; at = out.indexOf("%25", at + 3)) {
    const hi = hexValue(out.charCodeAt(at + 3));
    const lo = hexValue(out.charCodeAt(at + 4));
    if (hi < 0 || lo < 0) continue;
    const byte = hi * 16 + lo;
    if (byte >= 0x80) {
      const n = utf8EscapeLength(out, at, "%25");
      if (n === 0) return "double-encoded invalid UTF-8 is not allowed";
      at += 5 * (n - 1); // past the whole sequence, so its continuation bytes are not read as leads
    } else if (isDangerousByte(byte) || byte === DOT || byte === SEMICOLON) {
      return `double-encoded ${describeByte(byte)} is not allowed`;
    }
  }
  return undefined;
}

/** Pass 3, on the decoded-once path: no dot-segments at all, and empty segments only as a mergeable refusal. */
function checkSegments(out: string): CanonicalPath {
  const segments = out.split("/");
  let empty = false;
  for (let k = 1; k < segments.length; k++) {
    const seg = segments[k] as string;
    if (seg === "") {
      if (k < segments.length - 1) empty = true;
      continue;
    }
    if (isDotSegment(seg)) return fail(`dot-segment "${seg}" is not allowed`);
  }
  if (!empty) return { ok: true, path: out };
  return { ok: false, reason: "empty path segment ('//') is not allowed", merged: out.replace(/\/{2,}/g, "/") };
}

/**
 * "." or "..", also once a path parameter is cut off: servlet containers drop ";..." from each segment before they
 * resolve dots, so "/echo/..;/admin" is "/admin" to them. An encoded ";" counts too, for frameworks that decode first.
 */
function isDotSegment(seg: string): boolean {
  if (seg.charCodeAt(0) !== DOT) return false;
  let end = seg.length;
  const semi = seg.indexOf(";");
  if (semi >= 0) end = semi;
  const encoded = seg.indexOf("%3B");
  if (encoded >= 0 && encoded < end) end = encoded;
  return end === 1 || (end === 2 && seg.charCodeAt(1) === DOT);
}

function describeByte(byte: number): string {
  if (byte === SLASH) return "'/'";
  if (byte === BACKSLASH) return "'\\'";
  if (byte === DOT) return "'.'";
  if (byte === SEMICOLON) return "';'";
  if (byte === 0) return "NUL";
  return `control char 0x${byte.toString(16).padStart(2, "0")}`;
}
