// Differential tests of the hand-written certificate reading (certificate.ts, cert-signature.ts, svid.ts) against
// @peculiar/x509 over hundreds of generated certificates, plus mutated ones: a verdict of ours that admits a peer must
// never admit one the x509-based check (test/support/x509-reference.ts) refused.
import { describe, expect, test } from "bun:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { X509Certificate } from "node:crypto";
import { basicConstraintsCa, extendedKeyUsages, keyUsageFlags, parseCertificate, uriSans } from "./certificate.ts";
import { isSelfSigned, signedBy } from "./cert-signature.ts";
import { checkX509Svid } from "./svid.ts";
import { referenceCheckX509Svid } from "../../test/support/x509-reference.ts";
import { mulberry32 } from "../../test/support/http1-fuzz-cases.ts";

x509.cryptoProvider.set(crypto);

const TD = "diff.test";
const SEED = Number(process.env.CERT_DIFF_SEED ?? 20261201);
const COUNT = Number(process.env.CERT_DIFF_COUNT ?? 240);

// mulberry32: the same certificates on every run unless CERT_DIFF_SEED says otherwise.
const rand = mulberry32(SEED);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const chance = (p: number): boolean => rand() < p;

type KeyKind = "P-256" | "P-384" | "P-521" | "RSA-1024" | "RSA-2048" | "RSA-3072";
const keyAlg = (k: KeyKind, hash = "SHA-256"): EcKeyGenParams | RsaHashedKeyGenParams =>
  k.startsWith("RSA") ? { name: "RSASSA-PKCS1-v1_5", modulusLength: Number(k.slice(4)), publicExponent: new Uint8Array([1, 0, 1]), hash } : { name: "ECDSA", namedCurve: k };
const keyCache = new Map<string, CryptoKeyPair>();
async function keys(k: KeyKind, hash = "SHA-256", fresh = false): Promise<CryptoKeyPair> {
  const id = `${k}/${hash}`;
  if (!fresh && keyCache.has(id)) return keyCache.get(id)!;
  const kp = (await crypto.subtle.generateKey(keyAlg(k, hash), true, ["sign", "verify"])) as CryptoKeyPair;
  if (!fresh) keyCache.set(id, kp);
  return kp;
}

const EKUS = ["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.3", "2.5.29.37.0", "1.3.6.1.4.1.311.10.3.4"];
const SPIFFE = [`spiffe://${TD}/ns/default/svc/api`, `spiffe://${TD}/ns/prod/svc/web-1`, "spiffe://other.test/ns/default/svc/api", `spiffe://${TD}/svc/api`, "https://diff.test/x", `spiffe://${TD}/ns/default/svc/API`];

type Made = { der: Uint8Array; cert: x509.X509Certificate; issuer: x509.X509Certificate | undefined; selfSigned: boolean; sigOid: string };

const SIG_OIDS: Record<string, string> = {
  "ECDSA/SHA-1": "1.2.840.10045.4.1", "ECDSA/SHA-256": "1.2.840.10045.4.3.2", "ECDSA/SHA-384": "1.2.840.10045.4.3.3", "ECDSA/SHA-512": "1.2.840.10045.4.3.4",
  "RSASSA-PKCS1-v1_5/SHA-1": "1.2.840.113549.1.1.5", "RSASSA-PKCS1-v1_5/SHA-256": "1.2.840.113549.1.1.11", "RSASSA-PKCS1-v1_5/SHA-384": "1.2.840.113549.1.1.12", "RSASSA-PKCS1-v1_5/SHA-512": "1.2.840.113549.1.1.13",
};

function randomDate(): Date {
  // 1955..2085: both UTCTime and GeneralizedTime, whole seconds.
  const from = Date.UTC(1955, 0, 1);
  const to = Date.UTC(2085, 0, 1);
  return new Date(Math.floor((from + rand() * (to - from)) / 1000) * 1000);
}

/** `good`: the extensions of a proper X509-SVID leaf, so enough generated leaves pass for the comparison to mean something. */
async function randomExtensions(subjectKey: CryptoKey, good: boolean): Promise<x509.Extension[]> {
  const ext: x509.Extension[] = [];
  if (good || chance(0.8)) ext.push(new x509.BasicConstraintsExtension(!good && chance(0.2), !good && chance(0.2) ? Math.floor(rand() * 3) : undefined, chance(0.5)));
  if (good || chance(0.85)) ext.push(new x509.KeyUsagesExtension(good || chance(0.5) ? x509.KeyUsageFlags.digitalSignature | (chance(0.3) ? x509.KeyUsageFlags.keyEncipherment : 0) : Math.floor(rand() * 512), chance(0.5)));
  if (good ? chance(0.8) : chance(0.7)) ext.push(new x509.ExtendedKeyUsageExtension(good ? EKUS.slice(0, 2) : EKUS.filter(() => chance(0.5)), chance(0.2)));
  if (good || chance(0.9)) {
    const names: x509.JsonGeneralName[] = [];
    const n = good ? 1 : pick([0, 1, 1, 1, 1, 2, 3]);
    for (let i = 0; i < n; i++) names.push({ type: "url", value: good ? SPIFFE[Math.floor(rand() * 2)]! : pick(SPIFFE) });
    if (chance(0.3)) names.push({ type: "dns", value: "api.diff.test" });
    if (chance(0.2)) names.push({ type: "ip", value: pick(["10.0.0.1", "::1"]) });
    if (chance(0.2)) names.push({ type: "email", value: "ops@diff.test" });
    ext.splice(Math.floor(rand() * (ext.length + 1)), 0, new x509.SubjectAlternativeNameExtension(names.sort(() => rand() - 0.5), chance(0.5)));
  }
  if (chance(0.5)) ext.push(await x509.SubjectKeyIdentifierExtension.create(subjectKey));
  if (chance(0.3)) ext.push(new x509.Extension("1.3.6.1.4.1.55555.1", chance(0.3), crypto.getRandomValues(new Uint8Array(Math.floor(rand() * 300)))));
  return ext;
}

async function makeCertificate(i: number, root: { keys: CryptoKeyPair; cert: x509.X509Certificate }): Promise<Made> {
  const good = chance(0.4);
  const subjectKind: KeyKind = good ? pick(["P-256", "P-256", "P-384", "RSA-2048"]) : pick(["P-256", "P-256", "P-256", "P-384", "P-521", "RSA-2048", "RSA-1024", "RSA-3072"]);
  const subject = await keys(subjectKind);
  const selfSigned = !good && chance(0.25);
  const signerKeys = selfSigned ? subject : root.keys;
  const signerAlg = signerKeys.privateKey.algorithm.name;
  const picked = good ? pick(["SHA-256", "SHA-384"]) : pick(["SHA-256", "SHA-256", "SHA-384", "SHA-512", "SHA-1"]);
  // Deno's WebCrypto will not sign SHA-1 with a P-384 key; that pair is left out everywhere, so both runtimes agree.
  const hash = picked === "SHA-1" && (signerKeys.privateKey.algorithm as EcKeyAlgorithm).namedCurve === "P-384" ? "SHA-256" : picked;
  // WebCrypto fixes an RSA key's hash at creation: sign with a key made for the hash picked.
  const signingKeys = signerAlg === "ECDSA" ? signerKeys : selfSigned ? await keys(subjectKind, hash) : signerKeys;
  const signingAlgorithm = signerAlg === "ECDSA" ? { name: "ECDSA", hash } : { name: "RSASSA-PKCS1-v1_5", hash: selfSigned ? hash : "SHA-256" };
  const [a, b] = [randomDate(), randomDate()];
  const common = {
    serialNumber: (i + 1).toString(16).padStart(2, "0"),
    notBefore: a < b ? a : b,
    notAfter: a < b ? b : a,
    signingAlgorithm,
    extensions: await randomExtensions(subject.publicKey, good),
  };
  const name = chance(0.5) ? `CN=leaf ${i}` : "";
  const cert = selfSigned
    ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name, keys: signingKeys })
    : await x509.X509CertificateGenerator.create({ ...common, subject: name, issuer: root.cert.subjectName, publicKey: subject.publicKey, signingKey: root.keys.privateKey });
  return { der: new Uint8Array(cert.rawData), cert, issuer: selfSigned ? undefined : root.cert, selfSigned, sigOid: SIG_OIDS[`${signingAlgorithm.name}/${signingAlgorithm.hash}`]! };
}

async function makeRoot(kind: KeyKind): Promise<{ keys: CryptoKeyPair; cert: x509.X509Certificate }> {
  const k = await keys(kind, "SHA-256", true);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: `CN=${kind} root`, keys: k, serialNumber: "01", notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: kind.startsWith("RSA") ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : { name: "ECDSA", hash: "SHA-256" },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return { keys: k, cert };
}

const roots = [await makeRoot("P-256"), await makeRoot("P-384"), await makeRoot("RSA-2048")];
const made: Made[] = [];
for (let i = 0; i < COUNT; i++) made.push(await makeCertificate(i, roots[i % roots.length]!));

const sameTime = (a: Date, b: Date) => expect(a.getTime()).toBe(b.getTime());

describe(`certificate reading agrees with @peculiar/x509 on ${COUNT} generated certificates (seed ${SEED})`, () => {
  test("fields: SAN URIs, validity, basicConstraints, key usage, EKU, key, signature algorithm, signed bytes", () => {
    for (const m of made) {
      const v = parseCertificate(m.der);
      const c = m.cert;
      expect(uriSans(v)).toEqual(c.getExtension(x509.SubjectAlternativeNameExtension)?.names.items.filter((n) => n.type === "url").map((n) => n.value) ?? []);
      sameTime(v.notBefore, c.notBefore);
      sameTime(v.notAfter, c.notAfter);
      expect(basicConstraintsCa(v)).toBe(c.getExtension(x509.BasicConstraintsExtension)?.ca);
      // x509 reads an empty key usage BIT STRING as NaN, which every bit test treats as 0; we say 0.
      const ku = c.getExtension(x509.KeyUsagesExtension)?.usages;
      expect(keyUsageFlags(v)).toBe(ku !== undefined && Number.isNaN(ku) ? 0 : ku);
      expect(extendedKeyUsages(v)).toEqual(c.getExtension(x509.ExtendedKeyUsageExtension)?.usages.map(String));
      expect(v.signatureAlgorithm).toBe(m.sigOid);
      expect([...v.tbs]).toEqual([...new Uint8Array((c as unknown as { tbs: ArrayBuffer }).tbs)]);
      expect([...v.signature]).toEqual([...new Uint8Array(c.signature)]);
      expect([...v.publicKey.spki]).toEqual([...new Uint8Array(c.publicKey.rawData)]);
      const alg = c.publicKey.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
      if (alg.modulusLength !== undefined) expect(v.publicKey.rsaBits).toBe(alg.modulusLength);
    }
  });

  test("X509-SVID verdicts are the same, for both roles and two trust domains", () => {
    let admitted = 0;
    for (const m of made) {
      for (const role of ["client", "server"] as const) {
        for (const td of [TD, "other.test"]) {
          const mine = checkX509Svid(m.der, td, role);
          const ref = referenceCheckX509Svid(m.der, td, role);
          expect({ ok: mine.ok, id: mine.ok ? mine.spiffeId : undefined }).toEqual({ ok: ref.ok, id: ref.ok ? ref.spiffeId : undefined });
          if (!mine.ok && !ref.ok) expect(mine.reason.split(" ").slice(0, 3)).toEqual(ref.reason.split(" ").slice(0, 3));
          if (mine.ok) admitted++;
        }
      }
    }
    // The generator must produce passing leaves too, or the comparison proves little.
    expect(admitted).toBeGreaterThan(COUNT / 5);
  });

  test("signatures: signed by the issuer's key (and not by another root's), self-signed roots", async () => {
    for (const m of made) {
      const v = parseCertificate(m.der);
      const signer = m.issuer ?? m.cert;
      const want = await m.cert.verify({ publicKey: signer.publicKey, signatureOnly: true });
      expect(await signedBy(v, parseCertificate(new Uint8Array(signer.rawData)).publicKey)).toBe(want);
      const other = roots.find((r) => r.cert !== m.issuer)!;
      expect(await signedBy(v, parseCertificate(new Uint8Array(other.cert.rawData)).publicKey)).toBe(false);
      expect(await isSelfSigned(v)).toBe(await m.cert.isSelfSigned());
    }
    for (const r of roots) expect(await isSelfSigned(parseCertificate(new Uint8Array(r.cert.rawData)))).toBe(true);
  });
});

/**
 * The TLS stack's own reading (BoringSSL behind node:crypto on Bun): a certificate it cannot parse never reaches the
 * SVID check, since the handshake fails first. Used where the x509 reference refuses to parse something we read.
 */
function tlsStackView(der: Uint8Array): { uris: string[]; ca: boolean; eku: string[] | undefined } | undefined {
  let c: X509Certificate;
  try {
    c = new X509Certificate(der);
  } catch {
    return undefined;
  }
  const uris = (c.subjectAltName ?? "").split(", ").filter((e) => e.startsWith("URI:")).map((e) => e.slice(4));
  // node:crypto's keyUsage lists EKU OIDs on Bun and Node, but key usage names on Deno: only OIDs are compared.
  const oids = c.keyUsage?.filter((k) => /^\d+(\.\d+)+$/.test(k));
  return { uris, ca: c.ca, eku: oids === undefined || oids.length === 0 ? undefined : oids };
}

describe("mutated certificates never pass where the reference refuses", () => {
  test("random byte flips, truncations and insertions", () => {
    const passing = made.filter((m) => referenceCheckX509Svid(m.der, TD, "client").ok).slice(0, 40);
    expect(passing.length).toBeGreaterThan(10);
    const seen = { tried: 0, admitted: 0, tieBroken: 0 };
    for (const m of passing) {
      for (let j = 0; j < 60; j++) {
        const d = new Uint8Array(m.der);
        const kind = j % 3;
        let mutated: Uint8Array;
        if (kind === 0) {
          const at = Math.floor(rand() * d.length);
          d[at] = d[at]! ^ (1 << Math.floor(rand() * 8));
          mutated = d;
        } else if (kind === 1) mutated = d.subarray(0, Math.floor(rand() * d.length));
        else {
          const at = Math.floor(rand() * d.length);
          mutated = new Uint8Array([...d.subarray(0, at), Math.floor(rand() * 256), ...d.subarray(at)]);
        }
        seen.tried++;
        const mine = checkX509Svid(mutated, TD, "client");
        if (!mine.ok) continue;
        seen.admitted++;
        // The x509-based check could even throw here (a key it fails to parse lazily); that counts as a refusal to parse.
        let ref: ReturnType<typeof referenceCheckX509Svid>;
        try {
          ref = referenceCheckX509Svid(mutated, TD, "client");
        } catch {
          ref = { ok: false, reason: "certificate could not be parsed" };
        }
        if (ref.ok) {
          expect(ref.spiffeId).toBe(mine.spiffeId);
          continue;
        }
        // x509 would not parse it (a mangled name or a field no SVID rule reads): then the TLS stack must either refuse
        // it too, or read the same single URI, no CA flag and an EKU that allows the role.
        expect(ref.reason).toBe("certificate could not be parsed");
        seen.tieBroken++;
        const tls = tlsStackView(mutated);
        if (tls === undefined) continue;
        expect(tls.uris).toEqual([mine.spiffeId]);
        expect(tls.ca).toBe(false);
        if (tls.eku !== undefined) expect(tls.eku).toContain("1.3.6.1.5.5.7.3.2");
      }
    }
    expect(seen.tried).toBeGreaterThan(2000);
    expect(seen.admitted).toBeGreaterThan(100); // flips in the signature and the key bytes leave the fields intact
  });
});

describe("parseCertificate refuses", () => {
  const good = made[0]!.der;
  test("trailing bytes, an empty input, and a certificate cut short", () => {
    expect(() => parseCertificate(new Uint8Array([...good, 0]))).toThrow();
    expect(() => parseCertificate(new Uint8Array())).toThrow();
    expect(() => parseCertificate(good.subarray(0, good.length - 1))).toThrow();
  });
  test("a SAN holding a GeneralName of the wrong form (a primitive [3]) is refused whole", async () => {
    const k = await keys("P-256");
    const id = `spiffe://${TD}/ns/default/svc/api`;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: "", keys: k, serialNumber: "03", notBefore: new Date(), notAfter: new Date(Date.now() + 60_000), signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: id }, { type: "email", value: "a@b.c" }]), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature)],
    });
    const der = new Uint8Array(cert.rawData);
    expect(checkX509Svid(der, TD, "client")).toEqual({ ok: true, spiffeId: id });
    const at = der.findIndex((b, i) => b === 0x81 && der[i + 1] === 5 && der[i + 2] === "a".charCodeAt(0));
    der[at] = 0x83;
    expect(checkX509Svid(der, TD, "client")).toEqual({ ok: false, reason: "certificate could not be parsed" });
  });

  test("an extension named twice", async () => {
    const k = await keys("P-256");
    const san = new x509.SubjectAlternativeNameExtension([{ type: "url", value: `spiffe://${TD}/ns/default/svc/api` }]);
    const twice = await x509.X509CertificateGenerator.createSelfSigned({
      name: "", keys: k, serialNumber: "02", notBefore: new Date(), notAfter: new Date(Date.now() + 60_000), signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      extensions: [san, new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature), new x509.SubjectAlternativeNameExtension([{ type: "url", value: `spiffe://${TD}/ns/default/svc/admin` }])],
    });
    expect(() => parseCertificate(new Uint8Array(twice.rawData))).toThrow(/twice/);
    expect(checkX509Svid(new Uint8Array(twice.rawData), TD, "client")).toEqual({ ok: false, reason: "certificate could not be parsed" });
  });
});
