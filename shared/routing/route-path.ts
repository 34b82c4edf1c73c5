// Picks the route for a request under the path policy (docs/path-normalization.md): route on the strict canonical
// path; "//" only where the winning route opted into mergeSlashes; path parameters never change the winner.
import type { RequestHead } from "../types.ts";
import type { RouteHit, RouteTable } from "./route-table.ts";
import { canonicalizePath, isCanonicalPath } from "../http/canonical-path.ts";
import { withoutPathParameters } from "../http/path-parameters.ts";

export type RoutedPath<T> =
  /** `head.path` is what was matched and is exactly what goes upstream (before a configured prefix rewrite). */
  | { readonly ok: true; readonly head: RequestHead; readonly hit: RouteHit<T> | undefined }
  /** The caller answers 400 invalid-path with `reason`. */
  | { readonly ok: false; readonly reason: string };

export type RequestParts = { readonly method: string; readonly host: string; readonly headers: Pick<Headers, "get"> };

const EMPTY_QUERY = new URLSearchParams();

/**
 * `pathname` and `search` as received (see splitUrl); `hit` undefined means no route (404), not a bad path. The
 * request's parts come as arguments, and a canonical path is taken as it is: the common request makes only its head.
 */
export function routeByPath<T>(table: RouteTable<T>, method: string, host: string, headers: RequestParts["headers"], pathname: string, search: string): RoutedPath<T> {
  let path = pathname;
  // Set when the only flaw is "//": the merged path is routed, and only a route that opted in may take it.
  let mergedFlaw: string | undefined;
  if (!isCanonicalPath(pathname, search)) {
    const canonical = canonicalizePath(pathname, search);
    if (canonical.ok) path = canonical.path;
    else if (canonical.merged !== undefined) {
      path = canonical.merged;
      mergedFlaw = canonical.reason;
    } else return { ok: false, reason: canonical.reason };
  }

  const query = search === "" ? EMPTY_QUERY : new URLSearchParams(search);
  const head: RequestHead = { method, host, path, headers, query };
  const hit = table.match(head);
  // Only the route the merged path picks may accept it. Falling through to a route that opted in would let extra
  // slashes steer "//admin/x" past a stricter "/admin/" route to a catch-all, which then sends "/admin/x".
  if (mergedFlaw !== undefined && hit?.mergeSlashes !== true) return { ok: false, reason: mergedFlaw };

  // Servlet-style upstreams route "/admin;x/secret" as "/admin/secret": if that picks another route than the
  // literal path, we and the upstream disagree about what is being asked for, so neither answer is safe.
  const bare = withoutPathParameters(path);
  if (bare !== undefined && bare !== path && table.match({ ...head, path: bare }) !== hit) {
    return { ok: false, reason: `path parameters (';') change the route: without them the path is "${bare}"` };
  }
  return { ok: true, head, hit };
}
