// The ConfigProvider contract both sources implement (the file, Consul KV): whole states, each checked exactly
// once. A file state is text (parsed and validated here); a KV state is already assembled from documents that were
// each schema-checked on their own, so only the cross-document rules remain.
import { ROOT_PATH } from "./issues.ts";
import { parseMeshConfig, type ParseResult } from "./parse.ts";
import { validateMeshConfig } from "./validate.ts";
import type { MeshConfig } from "./schema.ts";

export type TextState = { readonly source: string; readonly text: string };
/** Documents already validated one by one and assembled; `key` identifies the state (equal key = same config). */
export type AssembledState = { readonly source: string; readonly key: string; readonly assembled: MeshConfig };
export type ConfigState = TextState | AssembledState;

/** What a provider yields: every whole state, the first one included; a provider never yields "no config". */
export type ConfigProvider = AsyncIterable<ConfigState>;

/** A state after its one check: the watcher and the first-state reader both consume this, never re-parsing. */
export type CheckedState = { readonly source: string; readonly key: string; readonly result: ParseResult };

export function stateKey(s: ConfigState): string {
  return "text" in s ? s.text : s.key;
}

export async function checkConfigState(s: ConfigState): Promise<CheckedState> {
  if ("text" in s) return { source: s.source, key: s.text, result: await parseMeshConfig(s.text, s.source) };
  const issues = validateMeshConfig(s.assembled).map((i) => ({ ...i, source: i.source || s.source, path: i.path || ROOT_PATH }));
  return { source: s.source, key: s.key, result: issues.length > 0 ? { ok: false, issues } : { ok: true, config: s.assembled } };
}
