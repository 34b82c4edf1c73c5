// Compiled header, query and regex conditions of a route match, built once per snapshot into plain predicates.
// Semantics (ANDed parts, invert, "present" defaults) are documented at the top of route-table.ts.
import type { RequestHead } from "../types.ts";
import type { RouteMatchConfig } from "../config/schema.ts";
import type { HeaderMap } from "../http/field-list.ts";

export type Test = (head: RequestHead) => boolean;

/** Anchor a config regex so it must match the whole subject. Throws on an invalid pattern (validate.ts checks first). */
export function anchoredRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

type HeaderMatch = NonNullable<RouteMatchConfig["headers"]>[number];
type QueryMatch = NonNullable<RouteMatchConfig["query"]>[number];

export function compileHeaderMatch(hm: HeaderMatch): Test {
  const test = compileHeadersMatch(hm);
  return (h) => test(h.headers);
}

/** The same condition over a header map alone: for callers that have no request head (an inbound fault's relay). */
export function compileHeadersMatch(hm: HeaderMatch): (headers: Pick<HeaderMap, "get">) => boolean {
  const name = hm.name.toLowerCase();
  const valueTest = compileValueTest(hm.exact, hm.prefix, hm.regex, hm.present);
  const invert = hm.invert === true;
  return (headers) => valueTest(headers.get(name) ?? undefined) !== invert;
}

export function compileQueryMatch(qm: QueryMatch): Test {
  const name = qm.name;
  const valueTest = compileValueTest(qm.exact, undefined, qm.regex, qm.present);
  return (h) => valueTest(h.query.get(name) ?? undefined);
}

function compileValueTest(
  exact: string | undefined,
  prefix: string | undefined,
  regex: string | undefined,
  present: boolean | undefined,
): (value: string | undefined) => boolean {
  const parts: Array<(value: string | undefined) => boolean> = [];
  if (present !== undefined) parts.push((v) => (v !== undefined) === present);
  if (exact !== undefined) parts.push((v) => v === exact);
  if (prefix !== undefined) parts.push((v) => v !== undefined && v.startsWith(prefix));
  if (regex !== undefined) {
    const re = anchoredRegex(regex);
    parts.push((v) => v !== undefined && re.test(v));
  }
  if (parts.length === 0) return (v) => v !== undefined;
  if (parts.length === 1) return parts[0] as (value: string | undefined) => boolean;
  // A loop, not parts.every((p) => p(v)): that would make a closure per request.
  return (v) => {
    for (let i = 0; i < parts.length; i++) if (!parts[i]!(v)) return false;
    return true;
  };
}
