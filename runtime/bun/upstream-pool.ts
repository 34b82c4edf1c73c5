// Idle upstream connections of the outbound fast path, per (endpoint, expected SPIFFE id): mTLS with the member's
// current credentials for mesh services, plain for services outside the mesh. One exchange per connection at a time.
import type { Endpoint } from "../../shared/types.ts";
import type { TlsMaterial } from "../ports.ts";
import { parseSpiffeId } from "../../shared/pki/spiffe.ts";
import { verifyPeer } from "./peer-identity.ts";
import { sameMaterial } from "./tls-material.ts";
import { AppLink, APP_IDLE_MS, type LinkTls } from "./app-link.ts";

export type UpstreamPool = {
  /** An idle connection to `endpoint`, or a new one (connected on first write). `expected` undefined = plaintext. */
  take(endpoint: Endpoint, expected: string | undefined, connectTimeoutMs: number): AppLink;
  /** The exchange on `link` completed and the connection may carry another (callable unbound: the relay passes it as is). */
  release(link: AppLink): void;
  close(): void;
};

// Mesh inbound listeners keep idle connections 60 s by default: close ours well before, so no request races their close.
const MESH_IDLE_MS = 20_000;
const MAX_IDLE_PER_KEY = 64;

type Pooled = { key: string; creds: TlsMaterial | undefined; plain: boolean };

function linkTls(creds: TlsMaterial, expected: string): LinkTls {
  const trustDomain = parseSpiffeId(expected)?.trustDomain ?? "";
  return {
    // The chain is verified against our bundle by OpenSSL; the link refuses any verdict but "hostname mismatch"
    // (app-link.ts), then the name check is ours: the SPIFFE id, not a hostname.
    options: { key: creds.keyPem, cert: creds.certChainPem, ca: creds.trustBundlePem, rejectUnauthorized: false },
    verify(der) {
      const v = verifyPeer(der, trustDomain, "server");
      if (!v.ok) return `upstream certificate refused: ${v.reason}`;
      return v.spiffeId === expected ? undefined : `upstream identity ${v.spiffeId} is not the expected ${expected}`;
    },
  };
}

/**
 * The pool key of (endpoint, expected), kept per endpoint object (discovery replaces the object when the endpoint
 * changes): a key built per request was a new string to hash on every take.
 */
const keys = new WeakMap<Endpoint, { readonly expected: string | undefined; readonly key: string }>();
function keyOf(endpoint: Endpoint, expected: string | undefined): string {
  const k = keys.get(endpoint);
  if (k !== undefined && k.expected === expected) return k.key;
  const key = `${endpoint.address}|${endpoint.port}|${expected ?? ""}`;
  keys.set(endpoint, { expected, key });
  return key;
}

export function createUpstreamPool(credentials: () => TlsMaterial): UpstreamPool {
  const idle = new Map<string, AppLink[]>();
  const meta = new WeakMap<AppLink, Pooled>();
  let closed = false;
  const sweep = setInterval(() => {
    const now = performance.now();
    for (const [key, list] of idle) {
      const keep = list.filter((l) => {
        const limit = meta.get(l)?.plain === true ? APP_IDLE_MS : MESH_IDLE_MS;
        if (l.open && now - l.idleSince < limit) return true;
        l.close();
        return false;
      });
      if (keep.length === 0) idle.delete(key);
      else idle.set(key, keep);
    }
  }, 1000);
  sweep.unref();

  return {
    take(endpoint, expected, connectTimeoutMs) {
      const key = keyOf(endpoint, expected);
      const creds = expected === undefined ? undefined : credentials();
      const list = idle.get(key);
      while (list !== undefined && list.length > 0) {
        const l = list.pop()!;
        const m = meta.get(l);
        // Rotated credentials: new connections present the new certificate; old ones are let go.
        if (l.open && (creds === undefined || m?.creds === creds || (m?.creds !== undefined && sameMaterial(m.creds, creds)))) return l;
        l.close();
      }
      const link = new AppLink(endpoint, creds === undefined ? undefined : linkTls(creds, expected!), connectTimeoutMs);
      meta.set(link, { key, creds, plain: expected === undefined });
      return link;
    },
    release(link) {
      const m = meta.get(link);
      if (m === undefined || closed || !link.open) return link.close();
      const list = idle.get(m.key) ?? [];
      if (list.length >= MAX_IDLE_PER_KEY) return link.close();
      list.push(link);
      idle.set(m.key, list);
    },
    close() {
      closed = true;
      clearInterval(sweep);
      for (const list of idle.values()) for (const l of list) l.close();
      idle.clear();
    },
  };
}
