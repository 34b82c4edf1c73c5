// The `yaml` library's reading of a text: every error with line:col, aliases within its bomb limit. Imported only
// when yaml-text.ts's fast path leaves a text to it, so that a member reading plain configs never loads `yaml`.
import { LineCounter, parseDocument } from "yaml";
import type { YamlRead } from "./yaml-text.ts";

/** What `yaml` makes of the text: errors with line:col, or the document as plain data (null when empty). */
export function readWithYaml(text: string): YamlRead {
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
