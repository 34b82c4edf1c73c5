// Keeps this member's workload certificate: from its state directory when still valid, else by joining with a token;
// renewed over mTLS at about half its life (with jitter, or soon after a root rotation); the CA down = keep it, retry.
import type { CaFetch, TlsMaterial } from "../runtime/ports.ts";
import { readFileIfExists } from "../runtime/node/private-files.ts";
import { CaRefusedError, type IssuedLeaf, type TrustBundleState } from "../shared/pki/ca-client.ts";
import { bundleRoots, chainRootFingerprint } from "../shared/pki/bundle.ts";
import { leafInfo, newWorkloadKey } from "../shared/pki/workload.ts";
import { connectCa } from "./ca-connection.ts";
import { loadIdentity, saveIdentity } from "./identity-state.ts";
import { startTrustWatch, WATCH_WAIT_MS } from "./trust-watch.ts";

export type JoinArgs = {
  /** https://host:port of the CA. */
  ca: string;
  /** sha256:<hex> of the CA's root; without it a member never joins. */
  caFingerprint: string;
  joinToken: string | undefined;
  joinTokenFile: string | undefined;
  /** Where the key, leaf and bundle live; the assembly fills in the default. */
  stateDir: string;
  /** Requested leaf lifetime; the CA caps it (1 s .. 30 d, default 24 h). */
  certTtlMs: number | undefined;
};

export type CredentialStore = {
  current(): TlsMaterial;
  notAfter(): Date;
  secondsLeft(): number;
  /** Which roots this member trusts and which one its leaf chains to (admin /info; rotation progress). */
  trust(): TrustView;
  stop(): void;
};

export type TrustView = { bundleRoots: string[]; leafRoot: string | undefined; signingRoot: string | undefined; bundleIndex: number | undefined };

type Log = { info(o: object, msg: string): void; warn(o: object, msg: string): void; error(o: object, msg: string): void };
/** `receivedAt`: when this member got the leaf. The leaf's notBefore is backdated for clock skew, so it can't say. */
type Creds = TlsMaterial & { notAfter: Date; receivedAt: Date };

/** A start that cannot go on (no token, refused token): the fatal log line shows `code` as its `error` field. */
export class JoinError extends Error {
  override readonly name = "JoinError";
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

const MIN_VALID_MS = 10_000; // a stored leaf closer to its end than this is renewed before starting on it
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 60_000;
const EARLY_RENEW_SPREAD_MS = 3000; // after the CA switches roots, members renew within this (spread, not all at once)

export async function startCredentialStore(o: { caFetch: CaFetch; join: JoinArgs; spiffeId: string; trustDomain: string; log: Log }): Promise<CredentialStore> {
  const { join: j, spiffeId, log } = o;
  const ca = connectCa({ caFetch: o.caFetch, url: j.ca, fingerprint: j.caFingerprint, trustDomain: o.trustDomain });
  const ttl = j.certTtlMs;

  /** The answer as credentials, after checking it is what was asked for. */
  const accept = (leaf: IssuedLeaf, keyPem: string, fallbackBundle: string, bundleOk: boolean): Creds => {
    const info = leafInfo(leaf.certChainPem);
    if (info.uris.length !== 1 || info.uris[0] !== spiffeId) throw new Error(`the CA issued a certificate for ${info.uris.join(", ") || "no URI"}, not ${spiffeId}`);
    return { spiffeId, keyPem, certChainPem: leaf.certChainPem, trustBundlePem: bundleOk ? leaf.trustBundlePem : fallbackBundle, notAfter: info.notAfter, receivedAt: new Date() };
  };

  async function fromState(): Promise<Creds | string> {
    const s = loadIdentity(j.stateDir);
    if ("missing" in s) return s.missing;
    if (s.spiffeId !== spiffeId) return `the stored certificate is for ${s.spiffeId}, not ${spiffeId}`;
    let info: ReturnType<typeof leafInfo>;
    try {
      info = leafInfo(s.certChainPem);
    } catch {
      return "the stored certificate does not parse";
    }
    if (info.uris[0] !== spiffeId) return `the stored certificate names ${info.uris.join(", ")}, not ${spiffeId}`;
    if (info.notAfter.getTime() - Date.now() < 1000) return `the stored certificate expired at ${info.notAfter.toISOString()}`;
    // After a rotation the bundle has moved on from the pinned root; it came over connections verified from it.
    if (s.pinnedRoot !== j.caFingerprint && !(await ca.holdsPinnedRoot(s.trustBundlePem))) return `the stored trust bundle does not hold the pinned root ${j.caFingerprint}`;
    const saved = Date.parse(s.savedAt);
    const receivedAt = new Date(Number.isNaN(saved) ? info.notBefore.getTime() : Math.min(saved, Date.now()));
    return { spiffeId, keyPem: s.keyPem, certChainPem: s.certChainPem, trustBundlePem: s.trustBundlePem, notAfter: info.notAfter, receivedAt };
  }

  function token(why: string): string {
    const t = j.joinToken ?? (j.joinTokenFile === undefined ? undefined : readFileIfExists(j.joinTokenFile)?.trim());
    if (j.joinTokenFile !== undefined && t === undefined) throw new JoinError("no-join-token", `${why}, and the join token file ${j.joinTokenFile} does not exist`);
    if (t === undefined || t === "") {
      const service = spiffeId.slice(spiffeId.lastIndexOf("/") + 1);
      throw new JoinError("no-join-token", `${why}, and no join token was given: create one on the CA host with \`meshctl token create --service ${service}\` and pass it with --join-token-file FILE (or --join-token / MESH_JOIN_TOKEN)`);
    }
    return t;
  }

  async function joinWithToken(why: string): Promise<Creds> {
    const t = token(why);
    const bundle = await ca.pinnedTrustBundle();
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId);
    let leaf: IssuedLeaf;
    try {
      leaf = await ca.client(bundle).join({ token: t, csrPem, spiffeId, ...(ttl === undefined ? {} : { ttlMs: ttl }) });
    } catch (err) {
      if (err instanceof CaRefusedError) throw new JoinError(err.code, `join refused by the CA (${err.code}): ${err.message}`);
      throw err;
    }
    const creds = accept(leaf, keyPem, bundle, await ca.holdsPinnedRoot(leaf.trustBundlePem));
    saveIdentity(j.stateDir, creds, j.caFingerprint);
    log.info({ tokenId: leaf.tokenId, notAfter: creds.notAfter.toISOString(), stateDir: j.stateDir }, "joined the mesh with a join token");
    return creds;
  }

  /** New credentials from the CA, authenticated by `current` over mTLS (no token). */
  async function renewed(current: Creds): Promise<Creds> {
    const { keyPem, csrPem } = await newWorkloadKey(spiffeId);
    const client = ca.client(current.trustBundlePem, { keyPem: current.keyPem, certChainPem: current.certChainPem });
    const leaf = await client.renew({ csrPem, spiffeId, ...(ttl === undefined ? {} : { ttlMs: ttl }) });
    // The answer came over a connection verified against the current bundle; a bundle that cannot verify the new
    // leaf itself is a CA fault, and the current bundle is kept.
    const bundleOk = (await chainRootFingerprint(leaf.certChainPem, leaf.trustBundlePem)) !== undefined;
    if (!bundleOk) log.warn({}, "the CA's trust bundle does not hold the root of the leaf it just issued; keeping the current bundle");
    return accept(leaf, keyPem, current.trustBundlePem, bundleOk);
  }

  let stored = await fromState();
  // Nearly over (a restart just before renewal, short leaves): renew with it now; only if that fails is a token needed.
  if (typeof stored !== "string" && stored.notAfter.getTime() - Date.now() < MIN_VALID_MS) {
    try {
      stored = await renewed(stored);
      saveIdentity(j.stateDir, stored, j.caFingerprint);
      log.info({ notAfter: stored.notAfter.toISOString() }, "stored certificate was about to expire; renewed it at start");
    } catch (err) {
      stored = `the stored certificate expires at ${stored.notAfter.toISOString()} and renewing it failed (${err instanceof Error ? err.message : String(err)})`;
    }
  }
  let creds: Creds;
  if (typeof stored === "string") {
    creds = await joinWithToken(`no usable certificate in ${j.stateDir} (${stored})`);
  } else {
    creds = stored;
    log.info({ notAfter: creds.notAfter.toISOString(), stateDir: j.stateDir }, "certificate loaded from the state directory; no join token needed");
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let failures = 0;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => void renew(), Math.max(0, delayMs));
    (timer as { unref?: () => void }).unref?.();
  };
  /** At 40-50% of the leaf's life since it was received (jitter spreads a fleet's renewals); at least 1 s from now. */
  const scheduleFromLifetime = (): void => {
    const start = creds.receivedAt.getTime();
    const life = creds.notAfter.getTime() - start;
    schedule(Math.max(RETRY_MIN_MS, start + life * (0.5 - Math.random() * 0.1) - Date.now()));
  };
  const renew = async (): Promise<void> => {
    try {
      creds = await renewed(creds);
      await refreshView();
      failures = 0;
      try {
        saveIdentity(j.stateDir, creds, j.caFingerprint);
      } catch (err) {
        log.error({ err: String(err), stateDir: j.stateDir }, "could not save the renewed certificate; a restart would need a join token");
      }
      log.info({ notAfter: creds.notAfter.toISOString() }, "workload certificate renewed");
      scheduleFromLifetime();
    } catch (err) {
      failures++;
      const backoff = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 16)) * (0.5 + Math.random() * 0.5);
      const secondsLeft = Math.floor((creds.notAfter.getTime() - Date.now()) / 1000);
      const fields = { err: err instanceof Error ? err.message : String(err), retryInMs: Math.round(backoff), certSecondsLeft: secondsLeft };
      if (secondsLeft <= 0) log.error(fields, "certificate expired and renewal keeps failing; once the CA is back this member needs a new join token if renewal is refused");
      else log.warn(fields, "certificate renewal failed; keeping the current certificate and retrying");
      schedule(backoff);
    }
  };
  scheduleFromLifetime();

  // What /info shows, recomputed whenever the bundle or the leaf changes (fingerprints are async to compute).
  let view: TrustView = { bundleRoots: [], leafRoot: undefined, signingRoot: undefined, bundleIndex: undefined };
  async function refreshView(state?: TrustBundleState): Promise<void> {
    const roots = (await bundleRoots(creds.trustBundlePem)).map((r) => r.fingerprint);
    const leafRoot = await chainRootFingerprint(creds.certChainPem, creds.trustBundlePem);
    view = { bundleRoots: roots, leafRoot, signingRoot: state?.signingRoot ?? view.signingRoot, bundleIndex: state?.index ?? view.bundleIndex };
  }
  await refreshView();

  const memberId = crypto.randomUUID();
  let earlyFor: string | undefined;
  const watch = startTrustWatch({
    log,
    watch: (index) => ca.client(creds.trustBundlePem, { keyPem: creds.keyPem, certChainPem: creds.certChainPem }).watchBundle({ index, waitMs: WATCH_WAIT_MS, member: memberId }),
    async onState(st) {
      if (st.trustBundlePem !== creds.trustBundlePem && (await bundleRoots(st.trustBundlePem)).length > 0) {
        creds = { ...creds, trustBundlePem: st.trustBundlePem };
        try {
          saveIdentity(j.stateDir, creds, j.caFingerprint);
        } catch (err) {
          log.error({ err: String(err), stateDir: j.stateDir }, "could not save the new trust bundle");
        }
        log.info({ bundleIndex: st.index, roots: st.rootFingerprints, signingRoot: st.signingRoot }, "trust bundle updated from the CA");
      }
      await refreshView(st);
      // The CA signs from another root now: renew soon (spread over a few seconds) so the old root can retire.
      if (view.leafRoot !== st.signingRoot && earlyFor !== st.signingRoot) {
        earlyFor = st.signingRoot;
        clearTimeout(timer);
        schedule(Math.random() * EARLY_RENEW_SPREAD_MS);
      }
    },
  });

  return {
    current: () => creds,
    notAfter: () => creds.notAfter,
    secondsLeft: () => Math.max(0, Math.floor((creds.notAfter.getTime() - Date.now()) / 1000)),
    trust: () => view,
    stop: () => {
      stopped = true;
      watch.stop();
      clearTimeout(timer);
    },
  };
}
