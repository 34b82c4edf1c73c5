// Where a mesh member's config comes from: the YAML file (the embedded default) or, in Consul mode without a
// file, the documents under a KV prefix. Reads the first valid state so the identity can be derived from it.
import type { MeshConfig } from "../shared/config/schema.ts";
import type { ConfigIssue } from "../shared/config/issues.ts";
import { formatIssue } from "../shared/config/issues.ts";
import { parseMeshConfig } from "../shared/config/parse.ts";
import { watchConfigFile } from "../shared/config/file-provider.ts";
import { watchConsulKv } from "../shared/config/consul-kv-provider.ts";

type Log = { error(o: object, msg: string): void; warn(o: object, msg: string): void };

export type ConfigSource = {
  first: MeshConfig;
  updates: AsyncIterable<{ text: string; source: string }>;
  /** Documents rejected on their own (KV mode); their last good versions keep serving. */
  documentIssues(): ConfigIssue[];
  stop(): void;
};

export async function openConfigSource(o: { configPath: string | undefined; consul: string | undefined; kvPrefix: string; log: Log }): Promise<ConfigSource> {
  const ac = new AbortController();
  let docIssues: ConfigIssue[] = [];
  let updates: AsyncIterable<{ text: string; source: string }>;
  if (o.configPath !== undefined) {
    updates = watchConfigFile(o.configPath, { signal: ac.signal, onError: (i) => o.log.error({}, formatIssue(i)) });
  } else if (o.consul !== undefined) {
    updates = watchConsulKv({
      consul: o.consul,
      prefix: o.kvPrefix,
      token: process.env.CONSUL_HTTP_TOKEN,
      signal: ac.signal,
      onDocumentIssues: (issues) => {
        if (issues.length > 0) o.log.error({ issues: issues.map(formatIssue) }, "config documents rejected; their last good versions keep serving");
        docIssues = issues;
      },
      onError: (err, n) => {
        if (n === 1) o.log.warn({ err: String(err) }, "consul KV unreachable; the last good config keeps serving");
      },
    });
  } else throw new Error("no config source: give --config FILE, or --consul ADDR to read config from Consul KV");

  // Take the first state off the stream, then hand the same stream on with that state put back in front.
  const it = updates[Symbol.asyncIterator]();
  const head = await it.next();
  if (head.done) throw new Error("config source ended before yielding anything");
  const parsed = parseMeshConfig(head.value.text, head.value.source);
  if (!parsed.ok) throw new Error(`invalid config:\n${parsed.issues.map(formatIssue).join("\n")}`);
  let pending: IteratorResult<{ text: string; source: string }> | undefined = head;
  const replay: AsyncIterable<{ text: string; source: string }> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        if (pending !== undefined) {
          const r = pending;
          pending = undefined;
          return r;
        }
        return it.next();
      },
      return: async () => {
        ac.abort();
        return (await it.return?.()) ?? { done: true, value: undefined };
      },
    }),
  };
  return { first: parsed.config, updates: replay, documentIssues: () => docIssues, stop: () => ac.abort() };
}
