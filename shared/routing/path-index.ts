// The routes of one host tier (one exact host, one wildcard suffix, or any host) indexed by their path condition,
// so finding the winner costs a map lookup and a walk down the prefix tree instead of a scan of every route.
import type { PathMatchConfig } from "../config/schema.ts";
import type { RequestHead } from "../types.ts";
import { appendRoute, firstAccepted, type CompiledRoute, type RouteList } from "./compiled-route.ts";
import { createPrefixTree, findLongestFirst, prefixNode, type PrefixNode } from "./prefix-tree.ts";

/**
 * Every list, and every route list in the prefix tree, is in route order (more conditions, then first declared)
 * because buildRouteTable adds routes in that order: the path rank is the index's structure, the rest is append order.
 * Parts a tier does not use stay undefined: thousands of hosts with one route each should cost one route each.
 */
export type PathIndex<T> = {
  exact: Map<string, RouteList<T>> | undefined;
  prefixes: PrefixNode<RouteList<T>> | undefined;
  regex: Array<CompiledRoute<T>> | undefined;
  none: Array<CompiledRoute<T>> | undefined;
};

export function createPathIndex<T>(): PathIndex<T> {
  return { exact: undefined, prefixes: undefined, regex: undefined, none: undefined };
}

export function addToPathIndex<T>(index: PathIndex<T>, route: CompiledRoute<T>, path: PathMatchConfig | undefined): void {
  if (path === undefined) (index.none ??= []).push(route);
  else if ("exact" in path) {
    const exact = (index.exact ??= new Map());
    exact.set(path.exact, appendRoute(exact.get(path.exact), route));
  } else if ("prefix" in path) {
    const node = prefixNode((index.prefixes ??= createPrefixTree()), path.prefix);
    node.value = appendRoute(node.value, route);
  } else (index.regex ??= []).push(route);
}

/** The winner within this tier: exact path > prefix (longest first) > regex > no path, each in route order. */
export function matchPathIndex<T>(index: PathIndex<T>, head: RequestHead): CompiledRoute<T> | undefined {
  let found: CompiledRoute<T> | undefined;
  const exact = index.exact?.get(head.path);
  if (exact !== undefined && (found = firstAccepted(exact, head)) !== undefined) return found;
  if (index.prefixes !== undefined && (found = findLongestFirst(index.prefixes, head.path, firstAccepted<T>, head)) !== undefined) {
    return found;
  }
  if (index.regex !== undefined && (found = firstAccepted(index.regex, head)) !== undefined) return found;
  return index.none === undefined ? undefined : firstAccepted(index.none, head);
}
