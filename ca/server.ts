// The dev CA as a loopback HTTP service: publishes the trust bundle and signs workload CSRs.
// Loopback only until join-token auth exists: any local caller can obtain any identity in the trust domain.
import { CaRequestError, type CertificateAuthority } from "../shared/pki/ca.ts";

export const MAX_BODY_BYTES = 64 * 1024;

export type CaServer = { port: number; stop(): Promise<void> };

/** IPv4 127.0.0.0/8 or IPv6 ::1, as literals: names like "localhost" could resolve elsewhere. */
export function isLoopbackAddress(host: string): boolean {
  if (host === "::1" || host === "[::1]") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

class BodyTooLarge extends Error {}

/** Reads at most MAX_BODY_BYTES whatever Content-Length claims, so a chunked body can't get past the limit. */
async function readBody(req: Request): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw new BodyTooLarge();
  if (!req.body) return "";
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

async function handleSign(ca: CertificateAuthority, req: Request): Promise<Response> {
  let raw: string;
  try {
    raw = await readBody(req);
  } catch (err) {
    if (err instanceof BodyTooLarge) return json(413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    throw err;
  }
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return json(400, { error: "body must be JSON: { csrPem, spiffeId }" });
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return json(400, { error: "body must be a JSON object" });
  const { csrPem, spiffeId, ttlMs } = body as Record<string, unknown>;
  if (typeof csrPem !== "string" || typeof spiffeId !== "string") {
    return json(400, { error: "csrPem and spiffeId must be strings" });
  }
  if (ttlMs !== undefined && typeof ttlMs !== "number") return json(400, { error: "ttlMs must be a number" });
  try {
    const signed = await ca.sign(csrPem, spiffeId, ttlMs === undefined ? undefined : { ttlMs });
    return json(200, {
      certChainPem: signed.certChainPem,
      trustBundlePem: ca.trustBundlePem(),
      notAfter: signed.notAfter.toISOString(),
    });
  } catch (err) {
    if (err instanceof CaRequestError) return json(400, { error: err.message });
    throw err;
  }
}

export function startCaServer(ca: CertificateAuthority, opts: { port: number; hostname: string }): CaServer {
  if (!isLoopbackAddress(opts.hostname)) {
    throw new Error(
      `refusing to serve the CA on ${opts.hostname}: only loopback addresses (127.0.0.0/8, ::1) are allowed until join-token auth exists`,
    );
  }
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    async fetch(req) {
      const { pathname } = new URL(req.url);
      try {
        if (pathname === "/ready") return req.method === "GET" ? json(200, { ready: true }) : json(405, { error: "use GET" });
        if (pathname === "/v1/trust-bundle") {
          return req.method === "GET" ? json(200, { trustBundlePem: ca.trustBundlePem() }) : json(405, { error: "use GET" });
        }
        if (pathname === "/v1/sign") return req.method === "POST" ? await handleSign(ca, req) : json(405, { error: "use POST" });
        return json(404, { error: "not found" });
      } catch (err) {
        console.error(JSON.stringify({ msg: "ca request failed", service: "ca", path: pathname, err: String(err) }));
        return json(500, { error: "internal CA error" });
      }
    },
  });
  return {
    port: server.port ?? opts.port,
    stop: () => server.stop(true),
  };
}
