// Field names and methods that mesh hops send on nearly every request, as constant strings: the head scanner returns
// these instead of slicing (and lower-casing) a new string per field, 4-7 of each request's 30-42 strings.

// What our members send and receive on the hop (wrk, curl and browsers add the first few; the mesh adds the x-*s and
// trace fields; apps answer with the content and date ones). Any other name is sliced as before.
const NAMES = [
  "host", "user-agent", "accept", "accept-encoding", "accept-language", "authorization", "cookie", "content-length",
  "content-type", "transfer-encoding", "connection", "keep-alive", "date", "server", "cache-control", "etag",
  "x-request-id", "traceparent", "tracestate", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
  "x-mesh-client-id",
] as const;
const BY_LENGTH: string[][] = [];
for (const n of NAMES) (BY_LENGTH[n.length] ??= []).push(n);

/**
 * The constant for the name text[start, end), compared ASCII-case-insensitively (the caller has checked every char
 * is a tchar, so folding A-Z is all toLowerCase would do), or undefined when it is not one of NAMES.
 */
export function knownFieldName(text: string, start: number, end: number): string | undefined {
  const candidates = BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  next: for (let k = 0; k < candidates.length; k++) {
    const n = candidates[k]!;
    for (let j = 0; j < n.length; j++) {
      let c = text.charCodeAt(start + j);
      if (c >= 65 && c <= 90) c |= 32;
      if (c !== n.charCodeAt(j)) continue next;
    }
    return n;
  }
  return undefined;
}

const METHODS = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"] as const;

/** The method constant when text[0, length) is one the fast reader takes (case-sensitive), else undefined. */
export function knownMethod(text: string, length: number): string | undefined {
  for (let k = 0; k < METHODS.length; k++) {
    const m = METHODS[k]!;
    if (m.length === length && text.startsWith(m)) return m;
  }
  return undefined;
}
