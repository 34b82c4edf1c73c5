// SPIFFE ids for mesh workloads: spiffe://<trust-domain>/ns/<namespace>/svc/<service>.
// Parsing is strict on purpose: an id that is almost right is an authorization bug waiting to happen.

export type SpiffeIdParts = {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly service: string;
};

// Same shape as the config schema's service names, so every configured service has a valid id.
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const TRUST_DOMAIN = `${LABEL}(?:\\.${LABEL})*`;
const LABEL_RE = new RegExp(`^${LABEL}$`);
const TRUST_DOMAIN_RE = new RegExp(`^${TRUST_DOMAIN}$`);
const SPIFFE_ID_RE = new RegExp(`^spiffe://(${TRUST_DOMAIN})/ns/(${LABEL})/svc/(${LABEL})$`);
const MAX_TRUST_DOMAIN = 253;

export function isValidTrustDomain(td: string): boolean {
  return td.length <= MAX_TRUST_DOMAIN && TRUST_DOMAIN_RE.test(td);
}

/** Throws on parts that would not parse back, so a bad name fails where it was configured. */
export function formatSpiffeId(p: { trustDomain: string; namespace: string; service: string }): string {
  if (!isValidTrustDomain(p.trustDomain)) throw new Error(`invalid SPIFFE trust domain: ${JSON.stringify(p.trustDomain)}`);
  if (!LABEL_RE.test(p.namespace)) throw new Error(`invalid SPIFFE namespace: ${JSON.stringify(p.namespace)}`);
  if (!LABEL_RE.test(p.service)) throw new Error(`invalid SPIFFE service name: ${JSON.stringify(p.service)}`);
  return `spiffe://${p.trustDomain}/ns/${p.namespace}/svc/${p.service}`;
}

export function parseSpiffeId(s: string): SpiffeIdParts | undefined {
  const m = SPIFFE_ID_RE.exec(s);
  if (!m) return undefined;
  const [, trustDomain, namespace, service] = m;
  if (trustDomain === undefined || namespace === undefined || service === undefined) return undefined;
  if (trustDomain.length > MAX_TRUST_DOMAIN) return undefined;
  return { trustDomain, namespace, service };
}

/**
 * Splits a TLS stack's `subjectaltname` string ("DNS:a, URI:b") into [type, value] entries.
 * Values with special characters arrive JSON-quoted; honouring the quotes stops a crafted
 * DNS name like `x, URI:spiffe://...` from posing as a second entry (the CVE-2021-44532 class).
 * Returns undefined for anything malformed.
 */
export function splitSubjectAltName(san: string): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(":", i);
    if (colon < 0) return undefined;
    const type = san.slice(i, colon);
    if (type.length === 0 || type.includes(",") || type.includes('"')) return undefined;
    let value: string;
    let end: number;
    if (san[colon + 1] === '"') {
      end = endOfJsonString(san, colon + 1);
      if (end < 0) return undefined;
      try {
        value = JSON.parse(san.slice(colon + 1, end)) as string;
      } catch {
        return undefined;
      }
    } else {
      const sep = san.indexOf(", ", colon + 1);
      end = sep < 0 ? san.length : sep;
      value = san.slice(colon + 1, end);
    }
    out.push([type, value]);
    if (end === san.length) return out;
    if (san.slice(end, end + 2) !== ", ") return undefined;
    i = end + 2;
    if (i === san.length) return undefined;
  }
  return out;
}

/** Index just past the closing quote of the JSON string starting at `start`, or -1. */
function endOfJsonString(s: string, start: number): number {
  for (let j = start + 1; j < s.length; j++) {
    const c = s[j];
    if (c === "\\") j++;
    else if (c === '"') return j + 1;
  }
  return -1;
}

/**
 * The peer's SPIFFE id from a verified certificate's SAN string, or undefined unless there is
 * exactly one URI entry and it is a well-formed SPIFFE id (the SPIFFE X.509-SVID rule).
 */
export function spiffeIdFromSubjectAltName(san: string | undefined): string | undefined {
  if (san === undefined || san.length === 0) return undefined;
  const entries = splitSubjectAltName(san);
  if (!entries) return undefined;
  const uris = entries.filter(([type]) => type === "URI");
  if (uris.length !== 1) return undefined;
  const id = uris[0]![1];
  return parseSpiffeId(id) ? id : undefined;
}
