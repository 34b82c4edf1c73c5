// Tells lost Consul KV config from an intended change: an empty or vanished prefix, or a store whose index went
// back with fewer documents (an agent restarted empty, a restore), is held, never applied; so is a partial refill.
import { CONFIRM_DOCUMENT, isConfigDocument } from "./kv-documents.ts";

/** `partial`: documents are coming back after a hold began, but fewer than the last good config had. */
export type KvHoldReason = "empty" | "vanished" | "index-reset" | "partial";

/** The last state a member let through: what a later state is compared with. */
export type KvBaseline = { index: number; documents: number };

/** One KV answer, reduced to what the guard needs. `vanished`: Consul answered 404 (no key under the prefix). */
export type KvState = { index: number; vanished: boolean; documents: number; confirmed: boolean };

/**
 * Why a member keeps its last good config instead of this state (admin /config `held`). `since` is when this
 * hold began (kept while the reason changes); a gauge can read `reason`, a counter the source's `holds()`.
 */
export type KvHold = { reason: KvHoldReason; message: string; since: string; index: number; documents: number; lastGood: KvBaseline | undefined };

export function summarizeKvState(keys: readonly string[], prefix: string, index: number, vanished: boolean): KvState {
  return {
    index,
    vanished,
    documents: keys.filter((k) => isConfigDocument(k, prefix)).length,
    confirmed: keys.includes(`${prefix}${CONFIRM_DOCUMENT}`),
  };
}

const CONFIRM = "or confirm it with `meshctl apply --confirm -f FILE` (fewer documents on purpose) or `meshctl teardown --yes` (an empty mesh on purpose)";

/**
 * Pure: undefined means the state may be applied. `holding`: a hold is in progress, so a refill with fewer
 * documents than the last good is still a loss being repaired, even though the index moves forward.
 */
export function judgeKvState(state: KvState, baseline: KvBaseline | undefined, prefix: string, holding = false): { reason: KvHoldReason; message: string } | undefined {
  if (state.confirmed) return undefined; // the operator said so with meshctl
  if (state.documents === 0) {
    if (baseline !== undefined && baseline.documents === 0) return undefined; // already serving an empty mesh: nothing to lose
    const what = state.vanished ? `no key under ${prefix} in Consul KV (404 at index ${state.index})` : `no config document under ${prefix} (index ${state.index})`;
    if (baseline === undefined) return { reason: state.vanished ? "vanished" : "empty", message: `${what}: waiting for the first config; write documents with \`meshctl apply\`, ${CONFIRM}` };
    return { reason: state.vanished ? "vanished" : "empty", message: `${what}: the last good config (${baseline.documents} documents) keeps serving until they are back, ${CONFIRM}` };
  }
  if (baseline === undefined || state.documents >= baseline.documents) return undefined;
  const keep = `the last good config keeps serving until ${baseline.documents} documents are back, ${CONFIRM}`;
  if (state.index < baseline.index) {
    return { reason: "index-reset", message: `Consul KV index under ${prefix} went back from ${baseline.index} to ${state.index} with ${state.documents} of ${baseline.documents} documents (an agent restarted empty, or a restore?): ${keep}` };
  }
  if (holding) return { reason: "partial", message: `${state.documents} of ${baseline.documents} documents under ${prefix} are back (index ${state.index}): ${keep}` };
  return undefined; // fewer documents, index forward, nothing lost before: a deliberate deletion
}

export type KvGuard = {
  /** The hold if this state must not be applied; otherwise undefined, and the state becomes the baseline. */
  check(state: KvState): KvHold | undefined;
  held(): KvHold | undefined;
  /** Holds begun while a config was live (a startup wait is not counted): for a counter metric. */
  holds(): number;
};

export function createKvGuard(prefix: string, now: () => Date = () => new Date()): KvGuard {
  let baseline: KvBaseline | undefined;
  let hold: KvHold | undefined;
  let holds = 0;
  return {
    check(state) {
      const verdict = judgeKvState(state, baseline, prefix, hold !== undefined);
      if (verdict === undefined) {
        hold = undefined;
        baseline = { index: state.index, documents: state.documents };
        return undefined;
      }
      if (hold === undefined && baseline !== undefined) holds += 1;
      hold = { ...verdict, since: hold?.since ?? now().toISOString(), index: state.index, documents: state.documents, lastGood: baseline };
      return hold;
    },
    held: () => hold,
    holds: () => holds,
  };
}
