// Turns a received request path into the one canonical form that the route table matches AND that is forwarded,
// so the mesh and the upstream can never disagree about which path a request is for (path-confusion attacks).

// Rules (decided here, relied on by route matching and authorization):
// - must start with "/"; raw control chars, raw "\" and invalid "%" sequences are rejected;
// - percent-encodings are decoded exactly once, and only for unreserved chars (A-Z a-z 0-9 - . _ ~);
//   every other encoding is kept, with upper-case hex ("%c3%a9" -> "%C3%A9");
// - encoded "/" (%2F), encoded "\" (%5C), encoded NUL/control chars (%00-%1F, %7F) are rejected,
//   and so is a double encoding of any of those or of "." (e.g. "%252F", "%252e") — an upstream that decodes twice
//   would otherwise see a different path than the one we routed;
// - raw space, non-ASCII and the other chars WHATWG URL would encode in a path are percent-encoded (UTF-8),
//   so a raw target and `new URL(...).pathname` canonicalise identically;
// - repeated slashes are merged ("//a///b" -> "/a/b") BEFORE dot-segments are resolved per RFC 3986 5.2.4
//   (".." never climbs above "/"); a trailing slash is kept.

export type CanonicalPath = { ok: true; path: string } | { ok: false; reason: string };

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
const HEX = "0123456789ABCDEF";
const utf8 = new TextEncoder();

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/** A decoded byte that must never be smuggled in encoded form: "/", "\", NUL and other control chars. */
function isDangerousByte(byte: number): boolean {
  return byte === SLASH || byte === BACKSLASH || byte < 0x20 || byte === 0x7f;
}

function isControl(code: number): boolean {
  return code < 0x20 || code === 0x7f;
}

const fail = (reason: string): CanonicalPath => ({ ok: false, reason });

export function canonicalizePath(pathname: string): CanonicalPath {
  if (pathname.charCodeAt(0) !== SLASH) return fail("path must start with '/'");
  // Fast path: only plain chars, no "//" and no segment starting with "." -> already canonical.
  let prev = SLASH;
  let i = 1;
  for (; i < pathname.length; i++) {
    const code = pathname.charCodeAt(i);
    if (code >= 128 || PLAIN[code] === 0) break;
    if (prev === SLASH && (code === SLASH || code === DOT)) break;
    prev = code;
  }
  if (i === pathname.length) return { ok: true, path: pathname };
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
      if (isDangerousByte(byte)) return fail(`encoded ${describeByte(byte)} is not allowed`);
      if (UNRESERVED[byte] === 1) out += String.fromCharCode(byte);
      else out += "%" + HEX[hi] + HEX[lo];
      i += 2;
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
  // Pass 2: a "%25" left after decoding is a literal "%"; if it introduces a dangerous char, it is a double encoding.
  for (let at = out.indexOf("%25"); at >= 0; at = out.indexOf("%25", at + 3)) {
    const hi = hexValue(out.charCodeAt(at + 3));
    const lo = hexValue(out.charCodeAt(at + 4));
    if (hi < 0 || lo < 0) continue;
    const byte = hi * 16 + lo;
    if (isDangerousByte(byte) || byte === DOT) return fail(`double-encoded ${describeByte(byte)} is not allowed`);
  }
  return { ok: true, path: removeDotSegments(out) };
}

/** RFC 3986 5.2.4 over a path whose repeated slashes are merged first. */
function removeDotSegments(path: string): string {
  const input = path.split("/");
  const stack: string[] = [];
  for (let k = 1; k < input.length; k++) {
    const seg = input[k] as string;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") stack.pop();
    else stack.push(seg);
  }
  const last = input[input.length - 1];
  const trailing = last === "" || last === "." || last === "..";
  if (stack.length === 0) return "/";
  return "/" + stack.join("/") + (trailing ? "/" : "");
}

function describeByte(byte: number): string {
  if (byte === SLASH) return "'/'";
  if (byte === BACKSLASH) return "'\\'";
  if (byte === DOT) return "'.'";
  if (byte === 0) return "NUL";
  return `control char 0x${byte.toString(16).padStart(2, "0")}`;
}
