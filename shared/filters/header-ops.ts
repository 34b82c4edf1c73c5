// Header rewrite filter: set/add/remove request headers before forwarding and response headers on the way back.
// Ops are compiled once; order is remove -> set -> add (as in Envoy), so "remove x, add x" yields only the new x.
import type { Filter } from "../types.ts";
import type { HeaderOpsConfig } from "../config/schema.ts";
import { withHeaders } from "./request-copy.ts";

/** What the edits need: Headers (the full path) and FieldList (the relays, lower-case names) both have it. */
export type HeaderEditor = Pick<Headers, "set" | "append" | "delete">;
export type HeaderEdit = (headers: HeaderEditor) => void;

/** The ops as one function, names lower-cased (a FieldList compares them as given); undefined when there are none. */
export function compileHeaderEdit(ops: HeaderOpsConfig | undefined): HeaderEdit | undefined {
  const lower = (entries: [string, string][]): [string, string][] => entries.map(([n, v]) => [n.toLowerCase(), v]);
  const remove = (ops?.remove ?? []).map((n) => n.toLowerCase());
  const set = lower(Object.entries(ops?.set ?? {}));
  const add = lower(Object.entries(ops?.add ?? {}));
  if (remove.length === 0 && set.length === 0 && add.length === 0) return undefined;
  return (h) => {
    for (const name of remove) h.delete(name);
    for (const [name, value] of set) h.set(name, value);
    for (const [name, value] of add) h.append(name, value);
  };
}

export function headerOpsFilter(ops: { request?: HeaderOpsConfig; response?: HeaderOpsConfig }): Filter {
  const onRequest = compileHeaderEdit(ops.request);
  const onResponse = compileHeaderEdit(ops.response);
  return (next) => {
    if (!onRequest && !onResponse) return next;
    return async (req, ctx) => {
      let forwarded = req;
      if (onRequest) {
        // A copy, never in place: a retry above us may send the same Request again, and "add" must not pile up.
        const headers = new Headers(req.headers);
        onRequest(headers);
        forwarded = withHeaders(req, headers);
      }
      const res = await next(forwarded, ctx);
      if (!onResponse) return res;
      // Fetched responses may carry immutable headers, so build a new Response around the same body stream.
      const headers = new Headers(res.headers);
      onResponse(headers);
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    };
  };
}
