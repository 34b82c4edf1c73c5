// The Consul KV provider: one recursive blocking query on the prefix; each change yields the whole assembled
// config as one JSON document for the keep-last-good watcher. Per-document rejections go to onDocumentIssues.
import { watchBlocking } from "../discovery/blocking.ts";
import { assembleKvDocuments, type KvEntry } from "./kv-documents.ts";
import type { ConfigIssue } from "./issues.ts";

export type KvProviderOptions = {
  consul: string;
  prefix: string; // e.g. "mesh/"
  token?: string | undefined;
  signal: AbortSignal;
  onDocumentIssues: (issues: ConfigIssue[]) => void;
  onError: (err: unknown, failures: number) => void;
};

function decode(body: unknown): KvEntry[] {
  if (!Array.isArray(body)) throw new Error("KV answer is not a list");
  return body.map((e: { Key?: unknown; Value?: unknown }) => ({
    key: String(e.Key),
    value: typeof e.Value === "string" ? Buffer.from(e.Value, "base64").toString("utf8") : "",
  }));
}

/** Yields `{ text, source }` after every KV change (the first read included); ends when the signal aborts. */
export function watchConsulKv(opts: KvProviderOptions): AsyncIterable<{ text: string; source: string }> {
  const queue: Array<{ text: string; source: string }> = [];
  let wake: (() => void) | undefined;
  const lastGood = new Map<string, unknown>();
  const base = `${opts.consul}/v1/kv/${opts.prefix.split("/").map(encodeURIComponent).join("/")}?recurse=true`;
  void watchBlocking<KvEntry[]>({
    url: (index, wait) => (index === 0 ? base : `${base}&index=${index}&wait=${wait}s`),
    parse: decode,
    notFoundBody: [],
    headers: opts.token === undefined ? undefined : { "X-Consul-Token": opts.token },
    signal: opts.signal,
    onError: opts.onError,
    onChange: (entries, index) => {
      const { config, issues } = assembleKvDocuments(entries, opts.prefix, lastGood);
      opts.onDocumentIssues(issues);
      queue.length = 0; // only the newest state matters
      queue.push({ text: JSON.stringify(config), source: `consul-kv ${opts.prefix} @${index}` });
      wake?.();
    },
  });
  opts.signal.addEventListener("abort", () => wake?.(), { once: true });
  return {
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
