// YAML (or JSON) text to plain data, or its syntax errors with line:col. Plain documents go through js-yaml, about
// ten times faster than `yaml` (a 10,000-route config: ~0.1 s against ~1 s); anything else goes to yaml-full.ts.
import { constructFromEvents, EVENT_ID, parseEvents } from "js-yaml";

export type YamlRead = { ok: true; data: unknown } | { ok: false; messages: string[] };

/**
 * The fast path, or undefined where it does not apply. Taken only where both libraries agree: one document with no
 * directive, tag, anchor or alias, that js-yaml reads without error (both follow the YAML 1.2 core schema there).
 * Everything else (errors, duplicate keys, aliases and their bomb limit, `%YAML 1.1`, explicit tags, empty text)
 * falls back to `yaml`, so what a config means and every error message stay as they were. One known difference: a
 * float literal too large for a double (`1e400`) is the string "1e400" here where `yaml` makes Infinity, so the
 * schema now refuses it in a number field (valibot's number() takes Infinity).
 */
export function readPlainYaml(text: string): { data: unknown } | undefined {
  try {
    const events = parseEvents(text, {});
    let documents = 0;
    for (const e of events) {
      if (e.type === EVENT_ID.DOCUMENT) {
        documents += 1;
        if (e.directives.length > 0) return undefined;
      } else if (e.type === EVENT_ID.ALIAS) {
        return undefined;
      } else if (e.type !== EVENT_ID.POP && (e.tagStart !== -1 || e.anchorStart !== -1)) {
        return undefined;
      }
    }
    if (documents !== 1) return undefined;
    return { data: constructFromEvents(events, { source: text })[0] };
  } catch {
    return undefined;
  }
}

/**
 * Plain data or syntax errors. `yaml` (72 modules, ~1.5 MB of an idle sidecar) is imported only for a text the fast
 * path leaves to it, so a member whose configs are plain documents never loads it (issue 11: parsers a mode doesn't
 * use).
 */
export async function readYaml(text: string): Promise<YamlRead> {
  const plain = readPlainYaml(text);
  if (plain !== undefined) return { ok: true, data: plain.data };
  const { readWithYaml } = await import("./yaml-full.ts");
  return readWithYaml(text);
}
