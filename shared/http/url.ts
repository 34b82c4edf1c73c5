// Splitting request URLs and targets without URL objects (they run on every request): one implementation for
// the core, the listeners and the clients, so they all agree on where the path starts and the query begins.

/** Splits an absolute request URL ("http://host/p?q") into origin, path and query. */
export function splitUrl(url: string): { origin: string; pathname: string; search: string } {
  const start = url.indexOf("//") + 2;
  let slash = url.indexOf("/", start);
  if (slash < 0) slash = url.length;
  const q = url.indexOf("?", slash);
  return {
    origin: url.slice(0, slash),
    pathname: slash === url.length ? "/" : url.slice(slash, q < 0 ? url.length : q),
    search: q < 0 ? "" : url.slice(q),
  };
}

/** The path + query of an absolute URL ("/" when it has no path). */
export function pathAndQuery(url: string): string {
  const slash = url.indexOf("/", url.indexOf("//") + 2);
  return slash < 0 ? "/" : url.slice(slash);
}

/** The authority of an absolute URL ("host:port"). */
export function authorityOf(url: string): string {
  const start = url.indexOf("//") + 2;
  const slash = url.indexOf("/", start);
  return url.slice(start, slash < 0 ? url.length : slash);
}

/** Splits a raw request target at its first "?" (a "#" stays where it is, for the path policy to refuse). */
export function splitTarget(target: string): { pathname: string; search: string } {
  return { pathname: targetPath(target), search: targetSearch(target) };
}

/** splitTarget's two halves one at a time, for the relays' planners: no object per request, and no slice without a query. */
export function targetPath(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? target : target.slice(0, q);
}

export function targetSearch(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? "" : target.slice(q);
}

/** The host a route matches on, from a Host value: port and trailing dot stripped, lower-cased. */
export function routingHost(raw: string): string {
  // The usual Host (a lower-case service name) needs no edit; checked char by char, it is returned as is.
  let plain = true;
  for (let i = 0; i < raw.length && plain; i++) {
    const c = raw.charCodeAt(i);
    plain = c !== 0x3a && c !== 0x5b && (c < 0x41 || c > 0x5a);
  }
  if (plain && raw.charCodeAt(raw.length - 1) !== 0x2e) return raw;
  const host = raw.startsWith("[") ? raw.slice(0, raw.indexOf("]") + 1) : raw.split(":")[0]!;
  return host.replace(/\.$/, "").toLowerCase();
}
