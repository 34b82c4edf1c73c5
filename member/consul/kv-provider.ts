// The Consul KV provider: one recursive blocking query on the prefix; each change yields the whole assembled
// config as one JSON document for the keep-last-good watcher. Lost-looking states are held (kv-guard.ts), not yielded.
import { watchBlocking } from "../../shared/discovery/blocking.ts";
import { blockingRead } from "./blocking-read.ts";
import { consulClient } from "./client.ts";
import { assembleKvDocuments, CONFIRM_DOCUMENT, DEFAULT_MAX_DOCUMENT_BYTES, type KvEntry } from "../../shared/config/kv-documents.ts";
import type { AssembledState } from "../../shared/config/provider.ts";
import type { MeshConfig } from "../../shared/config/schema.ts";
import { createKvGuard, summarizeKvState, type KvHold } from "../../shared/config/kv-guard.ts";
import type { ConfigIssue } from "../../shared/config/issues.ts";

export type KvProviderOptions = {
  consul: string;
  prefix: string; // e.g. "mesh/"
  token?: string | undefined;
  signal: AbortSignal;
  onDocumentIssues: (issues: ConfigIssue[]) => void;
  onError: (err: unknown, failures: number) => void;
  /** A hold began, changed reason, or ended (`hold` undefined); `previous` is the hold before this call. */
  onHold?: (hold: KvHold | undefined, previous: KvHold | undefined) => void;
  /** The confirm marker appeared or changed: this state is applied as it is (`documents` 0: a teardown). */
  onConfirmed?: (marker: string, documents: number) => void;
  maxDocumentBytes?: number;
};

export type KvWatch = AsyncIterable<AssembledState> & { held(): KvHold | undefined; holds(): number };

type Answer = { entries: KvEntry[]; vanished: boolean };

function decodeValue(raw: Uint8Array, limit: number): { value: string; bytes: number } {
  if (raw.length > limit) return { value: "", bytes: raw.length }; // rejected on size: not worth decoding
  return { value: new TextDecoder().decode(raw), bytes: raw.length };
}

function decode(body: unknown, limit: number): Answer {
  if (body === null) return { entries: [], vanished: true }; // the 404 stand-in (notFoundBody)
  if (!Array.isArray(body)) throw new Error("KV answer is not a list");
  // Read with `buffer: true`: the client has turned each base64 Value into bytes (null stays null).
  const entries = body.map((e: { Key?: unknown; Value?: unknown }) => ({
    key: String(e.Key),
    ...(e.Value instanceof Uint8Array ? decodeValue(e.Value, limit) : { value: "", bytes: 0 }),
  }));
  return { entries, vanished: false };
}

/** Yields the assembled state after every KV change that may be applied (the first included); ends when the signal aborts. */
export function watchConsulKv(opts: KvProviderOptions): KvWatch {
  const queue: AssembledState[] = [];
  let wake: (() => void) | undefined;
  const lastGood = new Map<string, unknown>();
  const guard = createKvGuard(opts.prefix);
  const limit = opts.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
  let marker: string | undefined;
  const client = consulClient(opts.consul, opts.token);
  let applying = Promise.resolve();
  const apply = async ({ entries, vanished }: Answer, index: number): Promise<void> => {
    const state = summarizeKvState(entries.map((e) => e.key), opts.prefix, index, vanished);
    const previous = guard.held();
    const hold = guard.check(state);
    if (hold?.reason !== previous?.reason) opts.onHold?.(hold, previous);
    // Held: nothing is assembled either, so every document keeps its last good version for when they return.
    if (hold !== undefined) return;
    const markerText = state.confirmed ? entries.find((e) => e.key === `${opts.prefix}${CONFIRM_DOCUMENT}`)?.value ?? "" : undefined;
    if (markerText !== undefined && markerText !== marker) opts.onConfirmed?.(markerText, state.documents);
    marker = markerText;
    const note = !state.confirmed ? "" : state.documents === 0 ? " (teardown)" : " (confirmed)";
    const { config, issues } = await assembleKvDocuments(entries, opts.prefix, lastGood, { maxDocumentBytes: limit });
    opts.onDocumentIssues(issues);
    queue.length = 0; // only the newest state matters
    // Each document was validated on its own above: the state goes on assembled, never as text to parse again.
    const assembled = config as MeshConfig;
    queue.push({ key: JSON.stringify(assembled), assembled, source: `consul-kv ${opts.prefix} @${index}${note}` });
    wake?.();
  };
  void watchBlocking<Answer>({
    fetchOnce: blockingRead((o) => client.kv.get({ key: opts.prefix, recurse: true, buffer: true, ...o })),
    parse: (body) => decode(body, limit),
    notFoundBody: null,
    signal: opts.signal,
    onError: opts.onError,
    // One answer at a time, in the order they came: assembling reads YAML asynchronously (a document that needs the
    // full YAML library loads it), and a later answer must never be applied before an earlier one.
    onChange: (answer, index) => {
      applying = applying.then(() => apply(answer, index)).catch((err) => opts.onError(err, 1));
    },
  });
  opts.signal.addEventListener("abort", () => wake?.(), { once: true });
  return {
    held: () => guard.held(),
    holds: () => guard.holds(),
    async *[Symbol.asyncIterator]() {
      while (!opts.signal.aborted) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
  };
}
