// Where a mesh member's config comes from: the YAML file (the embedded default) or, in Consul mode without a
// file, the documents under a KV prefix. Reads the first valid state so the identity can be derived from it.
import type { MeshConfig } from "../shared/config/schema.ts";
import type { ConfigIssue } from "../shared/config/issues.ts";
import type { KvHold } from "../shared/config/kv-guard.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { checkConfigState, type CheckedState, type ConfigProvider } from "../shared/config/provider.ts";
import { parseMaxDocumentBytes } from "../shared/config/kv-documents.ts";
import { watchConfigFile } from "../runtime/node/file-provider.ts";
import type { Reclaimer } from "./reclaim.ts";

type Log = { info(o: object, msg: string): void; error(o: object, msg: string): void; warn(o: object, msg: string): void };

export type ConfigSource = {
  /**
   * The first valid config, to derive the identity from before the watcher starts. Read it before consuming
   * `updates`: once they hand that state on, it is let go (reading it then throws), so the member does not keep a
   * second copy of a config the snapshot no longer needs (about 5 MB of heap for 10,000 routes).
   */
  readonly first: MeshConfig;
  /** Every state after its one check (the first one included, replayed): the watcher does not check again. */
  updates: AsyncIterable<CheckedState>;
  /** Documents rejected on their own (KV mode); their last good versions keep serving. */
  documentIssues(): ConfigIssue[];
  /** Why the live config is kept although the KV prefix changed (empty, vanished, index reset); file mode: never. */
  held(): KvHold | undefined;
  /** How many holds began while a config was live. */
  holds(): number;
  stop(): void;
};

/** A starting member with nothing to serve says so again at this interval until documents arrive. */
const WAITING_REMINDER_MS = 30_000;

export async function openConfigSource(o: { configPath: string | undefined; consul: string | undefined; kvPrefix: string; log: Log; reclaimer?: Reclaimer }): Promise<ConfigSource> {
  const ac = new AbortController();
  let docIssues: ConfigIssue[] = [];
  let updates: ConfigProvider;
  let held: () => KvHold | undefined = () => undefined;
  let holds: () => number = () => 0;
  let reminder: ReturnType<typeof setInterval> | undefined;
  if (o.configPath !== undefined) {
    updates = watchConfigFile(o.configPath, { signal: ac.signal, onError: (i) => o.log.error({}, formatIssue(i)) });
  } else if (o.consul !== undefined) {
    // Loaded only here: a member reading a file never pays for the consul client.
    const { watchConsulKv } = await import("./consul/kv-provider.ts");
    const kv = watchConsulKv({
      consul: o.consul,
      prefix: o.kvPrefix,
      token: process.env.CONSUL_HTTP_TOKEN,
      signal: ac.signal,
      maxDocumentBytes: parseMaxDocumentBytes(process.env.MESH_KV_MAX_DOCUMENT_BYTES),
      onDocumentIssues: (issues) => {
        if (issues.length > 0) o.log.error({ issues: issues.map(formatIssue) }, "config documents rejected; their last good versions keep serving");
        docIssues = issues;
      },
      onError: (err, n) => {
        if (n === 1) o.log.warn({ err: String(err) }, "consul KV unreachable; the last good config keeps serving");
      },
      onHold: (hold, previous) => {
        if (hold === undefined) {
          o.log.info({ reason: previous?.reason, since: previous?.since }, `config hold released: ${o.kvPrefix} has config documents again`);
          return;
        }
        const fields = { reason: hold.reason, since: hold.since, index: hold.index, documents: hold.documents, lastGood: hold.lastGood };
        if (hold.lastGood !== undefined) return o.log.warn(fields, `config held: ${hold.message}`);
        o.log.warn(fields, `not starting yet: ${hold.message}`);
        clearInterval(reminder);
        reminder = setInterval(() => {
          const h = kv.held();
          if (h !== undefined && h.lastGood === undefined) o.log.warn({ reason: h.reason, since: h.since }, `still waiting: ${h.message}`);
        }, WAITING_REMINDER_MS);
      },
      onConfirmed: (marker, documents) => {
        const fields = { marker: marker.trim(), documents };
        if (documents === 0) o.log.warn(fields, `mesh torn down on purpose (${o.kvPrefix}confirmed): applying an empty mesh`);
        else o.log.info(fields, `${o.kvPrefix}confirmed present: applying the ${documents} documents as they are`);
      },
    });
    updates = kv;
    held = kv.held;
    holds = kv.holds;
  } else throw new Error("no config source: give --config FILE, or --consul ADDR to read config from Consul KV");

  // Take the first state off the stream, then hand the same stream on with that state put back in front.
  const raw = updates[Symbol.asyncIterator]();
  // Each state is checked exactly once, here; the watcher receives the result (the head too, replayed).
  const it = {
    next: async (): Promise<IteratorResult<CheckedState>> => {
      const r = await raw.next();
      if (r.done) return { done: true, value: undefined };
      // Timed because it grows with the config: parsing a 10,000-route file is most of what such a member does at start.
      const began = performance.now();
      const checked = await checkConfigState(r.value);
      o.log.info({ source: checked.source, valid: checked.result.ok, checkMs: Math.round(performance.now() - began) }, "config checked");
      return { done: false, value: checked };
    },
    return: raw.return?.bind(raw),
  };
  const head = await it.next().finally(() => clearInterval(reminder));
  const parsed = head.done ? undefined : head.value.result;
  if (parsed?.ok !== true) {
    ac.abort(); // the caller gets no source to stop: release the file watch or the KV query here
    if (parsed === undefined) throw new Error("config source ended before yielding anything");
    throw new Error(`invalid config:\n${parsed.issues.map(formatIssue).join("\n")}`);
  }
  let pending: IteratorResult<CheckedState> | undefined = head;
  let first: MeshConfig | undefined = parsed.config;
  const replay: AsyncIterable<CheckedState> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        let r: IteratorResult<CheckedState>;
        if (pending !== undefined) {
          r = pending;
          pending = undefined;
          first = undefined; // handed on: from here the watcher's snapshot is what stays
        } else r = await it.next();
        // The watcher compiles and applies it next; what reading it left is collectable after that.
        if (!r.done) o.reclaimer?.handedOn(r.value.key.length);
        return r;
      },
      return: async (): Promise<IteratorResult<CheckedState>> => {
        ac.abort();
        await it.return?.();
        return { done: true, value: undefined };
      },
    }),
  };
  return {
    get first(): MeshConfig {
      if (first === undefined) throw new Error("ConfigSource.first was read after the first state was handed to the watcher");
      return first;
    },
    updates: replay, documentIssues: () => docIssues, held, holds, stop: () => ac.abort(),
  };
}
