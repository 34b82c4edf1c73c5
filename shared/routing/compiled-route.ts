// One route as the table stores it: its hit, its rank among routes on the same path key, and the conditions the
// path index cannot prove (regex path, methods, headers, query), kept as data checked by one shared function.
import type { RequestHead } from "../types.ts";
import type { RouteEntry, RouteHit } from "./route-table.ts";
import { anchoredRegex, compileHeaderMatch, compileQueryMatch } from "./match-conditions.ts";
import type { Test } from "./match-conditions.ts";

/**
 * The route is its own hit: match() hands this object out as the RouteHit, so a route costs one object here, not two
 * (a 10,000-route table is 10,000 fewer objects for every full collection to mark). route-path.ts compares hits by
 * identity, and there is one of these per route.
 */
export type CompiledRoute<T> = RouteHit<T> & {
  /** Declaration order: the last tie-breaker. */
  readonly index: number;
  /** headers + query params + (methods list ? 1 : 0): more conditions rank first among routes with the same path key. */
  readonly conditions: number;
  /** Only on regex routes; exact and prefix paths are proven by the index before a route is looked at. */
  readonly regex: RegExp | undefined;
  readonly methods: ReadonlySet<string> | undefined;
  /** Header then query tests; undefined (not an empty array) for the common route without any. */
  readonly tests: readonly Test[] | undefined;
};

/** Throws on an invalid regex, so a bad config fails at build time and never per request. */
export function compileRoute<T>(entry: RouteEntry<T>, index: number): CompiledRoute<T> {
  const m = entry.match ?? {};
  const path = m.path;
  let matchedPrefix: string | undefined;
  let regex: RegExp | undefined;
  if (path !== undefined && "exact" in path) matchedPrefix = path.exact;
  else if (path !== undefined && "prefix" in path) matchedPrefix = path.prefix;
  else if (path !== undefined && "regex" in path) regex = anchoredRegex(path.regex);
  const methods = m.methods !== undefined && m.methods.length > 0 ? new Set<string>(m.methods) : undefined;
  const tests = [...(m.headers ?? []).map(compileHeaderMatch), ...(m.query ?? []).map(compileQueryMatch)];
  return {
    name: entry.name,
    value: entry.value,
    matchedPrefix,
    mergeSlashes: path?.mergeSlashes === true,
    index,
    conditions: (m.headers?.length ?? 0) + (m.query?.length ?? 0) + (methods !== undefined ? 1 : 0),
    regex,
    methods,
    tests: tests.length > 0 ? tests : undefined,
  };
}

/** The order of routes sharing a path key: more conditions first, then first declared. */
export function compareRoutes<T>(a: CompiledRoute<T>, b: CompiledRoute<T>): number {
  return b.conditions - a.conditions || a.index - b.index;
}

/** Whether the route's own conditions hold; its host and exact/prefix path were already matched by the index. */
export function accepts<T>(route: CompiledRoute<T>, head: RequestHead): boolean {
  if (route.regex !== undefined && !route.regex.test(head.path)) return false;
  if (route.methods !== undefined && !route.methods.has(head.method)) return false;
  const tests = route.tests;
  if (tests !== undefined) {
    for (let i = 0; i < tests.length; i++) if (!(tests[i] as Test)(head)) return false;
  }
  return true;
}

/**
 * Routes sharing one path key, in precedence order. Most keys have a single route (every prefix of a 10,000-route edge
 * config), so that route stands for itself and only a shared key pays for an array.
 */
export type RouteList<T> = CompiledRoute<T> | Array<CompiledRoute<T>>;

export function appendRoute<T>(list: RouteList<T> | undefined, route: CompiledRoute<T>): RouteList<T> {
  if (list === undefined) return route;
  if (Array.isArray(list)) {
    list.push(route);
    return list;
  }
  return [list, route];
}

/** The first route of a list (already in precedence order) whose conditions hold. */
export function firstAccepted<T>(list: RouteList<T>, head: RequestHead): CompiledRoute<T> | undefined {
  if (!Array.isArray(list)) return accepts(list, head) ? list : undefined;
  for (let i = 0; i < list.length; i++) {
    const route = list[i] as CompiledRoute<T>;
    if (accepts(route, head)) return route;
  }
  return undefined;
}
