// The one hop-by-hop list (RFC 9110 7.6.1 plus the legacy and HTTP/2 ones): fields that describe one connection
// never cross a proxy. Used by the core and every runtime's codec and clients, in both directions.

/**
 * connection, keep-alive, te, transfer-encoding, upgrade, trailer, proxy-connection, expect, http2-settings.
 * Called for every field of every relayed head, on names the parser has just cut out of the head: compared by length
 * and then chars, which is cheaper than hashing each new string for a Set (user-agent, x-forwarded-proto and
 * x-mesh-client-id share lengths with the list).
 */
function alwaysHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name === "te";
    case 6:
      return name === "expect";
    case 7:
      return name === "upgrade" || name === "trailer";
    case 10:
      return name === "connection" || name === "keep-alive";
    case 14:
      return name === "http2-settings";
    case 16:
      return name === "proxy-connection";
    case 17:
      return name === "transfer-encoding";
  }
  return false;
}

/** True for a lower-cased field name that must not be forwarded, given the Connection tokens of the message. */
export function isHopByHop(name: string, connectionTokens: ReadonlySet<string> | undefined): boolean {
  if (alwaysHopByHop(name)) return true;
  if (name.charCodeAt(0) === 0x70 && name.startsWith("proxy-")) return true;
  return connectionTokens !== undefined && connectionTokens.has(name);
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

/** Removes hop-by-hop fields (and those the Connection field names) from `h` in place. */
export function removeHopByHop(h: Headers): void {
  const conn = h.get("connection");
  const tokens = conn === null ? undefined : connectionTokens([conn]);
  let doomed: string[] | undefined;
  for (const [n] of h) if (isHopByHop(n, tokens)) (doomed ??= []).push(n);
  if (doomed !== undefined) for (const n of doomed) h.delete(n);
}
