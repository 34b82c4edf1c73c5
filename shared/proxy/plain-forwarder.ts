// Forwards to an endpoint in plaintext with the Web fetch API: for services outside the mesh (`mtls: disable`)
// and for the inbound sidecar's last hop to its app on 127.0.0.1. Maps network errors to upstream error kinds.
import type { Endpoint } from "../types.ts";
import { UpstreamError } from "../types.ts";

/** Runtimes word socket errors differently; the codes below are Bun's and Node's. */
export function classifyFetchError(err: unknown, signal: AbortSignal): UpstreamError {
  if (signal.aborted) return new UpstreamError("timeout", "upstream request aborted", { cause: err });
  const code = (err as { code?: string } | undefined)?.code ?? "";
  const text = `${code} ${err instanceof Error ? err.message : String(err)}`;
  if (/ConnectionRefused|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|FailedToOpenSocket|ConnectionTimedOut|ETIMEDOUT/i.test(text)) {
    return new UpstreamError("connect-failure", `connect failed: ${text.trim()}`, { cause: err });
  }
  return new UpstreamError("reset", `upstream connection failed: ${text.trim()}`, { cause: err });
}

export async function plainForward(
  endpoint: Pick<Endpoint, "address" | "port">,
  req: Request,
  opts: { signal: AbortSignal; connectTimeoutMs?: number },
): Promise<Response> {
  const u = req.url;
  const slash = u.indexOf("/", u.indexOf("//") + 2);
  const url = `http://${endpoint.address}:${endpoint.port}${slash < 0 ? "/" : u.slice(slash)}`;
  try {
    return await fetch(url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
      signal: opts.signal,
      // @ts-expect-error Bun and Node need duplex for streamed request bodies
      duplex: "half",
      decompress: false,
    });
  } catch (err) {
    throw classifyFetchError(err, opts.signal);
  }
}
