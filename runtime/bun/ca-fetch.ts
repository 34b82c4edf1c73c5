// The member's HTTPS calls to its CA on Bun: fetch with the TLS mode the member asks for (see CaTls in ports.ts).
// No connection is reused: `keepalive: false` plus a fresh handshake per call, so an unverified one never carries a pinned call.
import { subjectAltNameHasUri } from "../../shared/pki/ca-client.ts";
import type { CaFetch } from "../ports.ts";

export const caFetch: CaFetch = async (url, req) => {
  const t = req.tls;
  const tls = t.verify === "none"
    ? { rejectUnauthorized: false }
    : {
      ca: t.rootsPem,
      rejectUnauthorized: true,
      ...(t.client === undefined ? {} : { cert: t.client.certChainPem, key: t.client.keyPem }),
      // After the chain verified against the pinned roots: the hostname does not matter (members reach the CA by any
      // name or address), the CA's URI SAN does; a member's own leaf (also from this root) can't pose as the CA.
      checkServerIdentity(_host: string, cert: { subjectaltname?: string }) {
        return subjectAltNameHasUri(cert.subjectaltname, t.serverId) ? undefined : new Error(`the CA's certificate does not name ${t.serverId} (SAN: ${cert.subjectaltname ?? "none"})`);
      },
    };
  const res = await fetch(url, {
    method: req.method,
    headers: { connection: "close", ...(req.body === undefined ? {} : { "content-type": "application/json" }) },
    ...(req.body === undefined ? {} : { body: req.body }),
    signal: AbortSignal.timeout(req.timeoutMs),
    keepalive: false,
    tls,
  } as RequestInit);
  return { status: res.status, text: await res.text() };
};
