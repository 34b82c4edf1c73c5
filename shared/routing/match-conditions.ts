// Compiled header, query and regex conditions of a route match, built once per snapshot into plain predicates.
// Semantics (ANDed parts, invert, "present" defaults) are documented at the top of route-table.ts.
import type { RequestHead } from "../types.ts";
import type { RouteMatchConfig } from "../config/schema.ts";

export type Test = (head: RequestHead) => boolean;

/** Anchor a config regex so it must match the whole subject. Throws on an invalid pattern (validate.ts checks first). */
export function anchoredRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

type HeaderMatch = NonNullable<RouteMatchConfig["headers"]>[number];
type QueryMatch = NonNullable<RouteMatchConfig["query"]>[number];

export function compileHeaderMatch(hm: HeaderMatch): Test {
  const name = hm.name.toLowerCase();
  const valueTest = compileValueTest(hm.exact, hm.prefix, hm.regex, hm.present);
  const invert = hm.invert === true;
  return (h) => valueTest(h.headers.get(name) ?? undefined) !== invert;
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
  return (v) => parts.every((p) => p(v));
}
