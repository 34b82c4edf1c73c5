// The member's HTTPS calls to its CA on Deno: node:https with the TLS mode the member asks for (CaTls in ports.ts).
// Deno's own fetch verifies the hostname and has no identity hook, so node:https it is; `agent: false` = no pooling.
import * as https from "node:https";
import { subjectAltNameHasUri } from "../../shared/pki/ca-client.ts";
import type { CaFetch } from "../ports.ts";

export const caFetch: CaFetch = (url, req) =>
  new Promise((resolve, reject) => {
    const t = req.tls;
    const tls: https.RequestOptions = t.verify === "none"
      // An empty `ca` rather than none: without one, Deno loads the system roots, which needs --allow-sys (and is pointless here).
      ? { rejectUnauthorized: false, ca: [] }
      : {
        ca: t.rootsPem,
        rejectUnauthorized: true,
        ...(t.client === undefined ? {} : { cert: t.client.certChainPem, key: t.client.keyPem }),
        // Same rule as on Bun: the chain verified against the pinned roots, then the CA's URI SAN, not the hostname.
        checkServerIdentity(_host, cert) {
          return subjectAltNameHasUri(cert.subjectaltname, t.serverId) ? undefined : new Error(`the CA's certificate does not name ${t.serverId} (SAN: ${cert.subjectaltname ?? "none"})`);
        },
      };
    const headers: Record<string, string> = { connection: "close" };
    if (req.body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(new TextEncoder().encode(req.body).length);
    }
    const r = https.request(url, { method: req.method, headers, agent: false, timeout: req.timeoutMs, ...tls }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (c: Uint8Array) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: new TextDecoder().decode(concat(chunks)) }));
      res.on("error", reject);
    });
    r.on("timeout", () => r.destroy(new Error(`no answer within ${req.timeoutMs} ms`)));
    r.on("error", reject);
    r.end(req.body);
  });

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
