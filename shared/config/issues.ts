// One shape for every config problem (YAML syntax, schema, semantic, unreadable file) and its one-line text.
// Paths read like `routes[3].match.path.regex` so users can find the spot in their YAML.

export type ConfigIssue = { source: string; path: string; message: string };

/** The path shown for problems with the document as a whole. */
export const ROOT_PATH = "(root)";

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `["routes", 3, "match"]` -> `routes[3].match`; odd record keys are quoted: `services["a b"]`. */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const seg of segments) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (PLAIN_KEY.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out === "" ? ROOT_PATH : out;
}

/** `demo.yaml: routes[3].match.path.regex: invalid regular expression (missing ))` */
export function formatIssue(i: ConfigIssue): string {
  return `${i.source}: ${i.path}: ${i.message}`;
}
