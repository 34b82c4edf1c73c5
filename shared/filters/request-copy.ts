// Builds a new Request from an existing one with a different URL, headers or body, handing the body stream on unread.
// Built from the URL, not `new Request(req, init)`: a runtime may ignore an init body when the input Request's body was read (one does).

export type RequestChanges = { readonly url?: string; readonly headers?: Headers; readonly body?: BodyInit | null };

export function copyRequest(req: Request, changes: RequestChanges): Request {
  const body = "body" in changes ? (changes.body ?? null) : req.body;
  const init: RequestInit & { duplex?: "half" } = {
    method: req.method,
    headers: changes.headers ?? req.headers,
    body,
    redirect: req.redirect,
    signal: req.signal,
  };
  if (body !== null) init.duplex = "half"; // required by the fetch spec for stream bodies
  return new Request(changes.url ?? req.url, init);
}

export function withHeaders(req: Request, headers: Headers): Request {
  return copyRequest(req, { headers });
}
