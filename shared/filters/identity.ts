// The inbound chain's first filter: the app learns its caller only from the verified peer certificate. A caller-sent
// identity header is replaced (removed for a caller without one), and what a calling member's HTTP client invented is removed.
import type { Filter } from "../types.ts";

/** Set from the verified peer certificate only; any value the caller sent is dropped, so a plaintext request has none. */
export const CLIENT_ID_HEADER = "x-mesh-client-id";

/**
 * A runtime's fetch may add User-Agent and Accept to requests that have none; a proxy must not invent headers. The sending
 * member names what its request lacked here, and the receiving inbound removes those before the app sees them.
 */
export const ABSENT_HEADER = "x-mesh-absent";

export function identityFilter(): Filter {
  return (next) => async (req, ctx) => {
    const h = req.headers;
    const absent = h.get(ABSENT_HEADER);
    if (absent !== null) {
      h.delete(ABSENT_HEADER);
      // Only a mesh member marks what its own client invented; from a caller without an identity it is just dropped.
      const names = ctx.peer === undefined ? [] : absent.split(",");
      for (const t of names) {
        const name = t.trim().toLowerCase();
        if (name === "user-agent" || name === "accept") h.delete(name);
      }
    }
    h.delete(CLIENT_ID_HEADER);
    if (ctx.peer !== undefined) h.set(CLIENT_ID_HEADER, ctx.peer);
    return next(req, ctx);
  };
}

/** The sending side of ABSENT_HEADER: runtimes whose HTTP client invents these headers call it on every mesh request. */
export function markAbsent(headers: Headers): void {
  const ua = headers.has("user-agent");
  const accept = headers.has("accept");
  if (ua && accept) headers.delete(ABSENT_HEADER);
  else headers.set(ABSENT_HEADER, ua ? "accept" : accept ? "user-agent" : "user-agent, accept");
}
