// Hop-by-hop header hygiene for HTTP/1.1 hops: fields that describe one connection never cross the transport.
// Applied in both directions (request heads in and out, response heads in and out).

const ALWAYS = new Set(["connection", "keep-alive", "te", "transfer-encoding", "upgrade", "trailer", "proxy-connection", "expect", "http2-settings"]);

/** True for a lower-cased field name that must not be forwarded, given the Connection tokens of the message. */
export function isHopByHop(name: string, connectionTokens: ReadonlySet<string> | undefined): boolean {
  return ALWAYS.has(name) || name.startsWith("proxy-") || (connectionTokens !== undefined && connectionTokens.has(name));
}

/** Lower-cased names listed in Connection header values (undefined when there are none, the common case). */
export function connectionTokens(values: Iterable<string>): Set<string> | undefined {
  let out: Set<string> | undefined;
  for (const v of values) {
    for (const t of v.split(",")) {
      const tok = t.trim().toLowerCase();
      if (tok.length > 0) (out ??= new Set()).add(tok);
    }
  }
  return out;
}

/** A copy of `h` without hop-by-hop fields (content-length is kept: callers decide framing). */
export function stripHopByHop(h: Headers): Headers {
  const conn = h.get("connection");
  const tokens = conn === null ? undefined : connectionTokens([conn]);
  const out = new Headers();
  for (const [n, v] of h) {
    if (!isHopByHop(n, tokens)) out.append(n, v);
  }
  return out;
}
