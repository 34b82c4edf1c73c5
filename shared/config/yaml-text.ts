// YAML (or JSON) text to plain data, or its syntax errors with line:col. Plain documents go through js-yaml, about
// ten times faster than `yaml` (a 10,000-route config: ~0.1 s against ~1 s); anything else keeps the `yaml` path.
import { constructFromEvents, EVENT_ID, parseEvents } from "js-yaml";
import { LineCounter, parseDocument } from "yaml";

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

/** What `yaml` makes of the text: errors with line:col, or the document as plain data (null when empty). */
function readWithYaml(text: string): YamlRead {
  const lines = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, lineCounter: lines });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      messages: doc.errors.map((e) => {
        const { line, col } = lines.linePos(e.pos[0]);
        return `YAML syntax error at ${line}:${col}: ${e.message}`;
      }),
    };
  }
  try {
    return { ok: true, data: doc.toJS() };
  } catch (e) {
    // e.g. an alias bomb beyond yaml's maxAliasCount
    return { ok: false, messages: [`YAML error: ${e instanceof Error ? e.message : String(e)}`] };
  }
}

export function readYaml(text: string): YamlRead {
  const plain = readPlainYaml(text);
  return plain === undefined ? readWithYaml(text) : { ok: true, data: plain.data };
}
