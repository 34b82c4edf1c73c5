// Response bodies whose bytes the transport already holds (its own small responses, upstream responses that came
// in whole): the writer sends them without reading a stream, which spares several promise turns per response.

const known = new WeakMap<Response, Uint8Array>();

/** A Response over `bytes` that the HTTP/1.1 writer can send synchronously (with its length declared). */
export function responseWithBytes(bytes: Uint8Array, init: ResponseInit): Response {
  const res = new Response(bytes as Uint8Array<ArrayBuffer>, init);
  known.set(res, bytes);
  return res;
}

/** The bytes of `res`, if it was made by responseWithBytes and its body was not read since. */
export function knownBytes(res: Response): Uint8Array | undefined {
  const b = known.get(res);
  return b !== undefined && !res.bodyUsed ? b : undefined;
}
