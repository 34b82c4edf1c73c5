// The path as a servlet-style upstream routes it: ";params" cut from every segment, then repeated "/" merged.
// Used to check that path parameters never change which route wins (route-path.ts), not to rewrite anything.

/**
 * The canonical `path` without path parameters, or undefined when it has none (the per-request common case).
 * A parameter starts at ";" or at "%3B" (canonical paths spell escapes upper-case): Tomcat cuts at ";" only,
 * but frameworks that decode first also cut at an encoded one, and the stricter reading is the safe one here.
 */
export function withoutPathParameters(path: string): string | undefined {
  if (!path.includes(";") && !path.includes("%3B")) return undefined;
  const segments = path.split("/");
  for (let k = 1; k < segments.length; k++) segments[k] = cutParameters(segments[k] as string);
  return segments.join("/").replace(/\/{2,}/g, "/");
}

function cutParameters(segment: string): string {
  let end = segment.indexOf(";");
  const encoded = segment.indexOf("%3B");
  if (encoded >= 0 && (end < 0 || encoded < end)) end = encoded;
  return end < 0 ? segment : segment.slice(0, end);
}
