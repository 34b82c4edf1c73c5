// Prefix rewrite filter: replaces the matched route prefix of the request path before forwarding (query kept).
// Joins so that no "//" appears: prefix "/echo" -> "/" turns "/echo/x" into "/x" and "/echo" into "/".
import type { Filter } from "../types.ts";
import { copyRequest } from "./request-copy.ts";

/** The rewritten path, or undefined when `path` does not start with `prefix`. */
export function rewritePrefix(path: string, prefix: string, replacement: string): string | undefined {
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  let out = replacement.endsWith("/") && rest.startsWith("/") ? replacement + rest.slice(1) : replacement + rest;
  if (!out.startsWith("/")) out = "/" + out;
  return out;
}

export function prefixRewriteFilter(matchedPrefix: string, replacement: string): Filter {
  return (next) => (req, ctx) => {
    const url = new URL(req.url);
    const path = rewritePrefix(url.pathname, matchedPrefix, replacement);
    if (path === undefined || path === url.pathname) return next(req, ctx);
    url.pathname = path;
    return next(copyRequest(req, { url: url.href }), ctx);
  };
}
