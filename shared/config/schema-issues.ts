// Turns valibot's issues into ConfigIssues with `a.b[3].c` paths and messages a user can act on.
// Valibot's defaults ("Invalid key: Expected never but received ...") are reworded here, nowhere else.
import type { BaseIssue } from "valibot";
import { formatPath, type ConfigIssue } from "./issues.ts";

type Issue = BaseIssue<unknown>;
type PathItem = NonNullable<Issue["path"]>[number];

function segments(issue: Issue): (string | number)[] {
  return (issue.path ?? []).map((p: PathItem) => (typeof p.key === "number" ? p.key : String(p.key)));
}

function lastKey(issue: Issue): string {
  const items = issue.path ?? [];
  return String(items[items.length - 1]?.key ?? "");
}

const isUnknownKey = (i: Issue): boolean => i.kind === "schema" && i.expected === "never" && (i.path?.length ?? 0) > 0;
const isMissingKey = (i: Issue): boolean => i.kind === "schema" && i.received === "undefined" && /^".*"$/.test(i.expected ?? "");

/** "Invalid type: Expected string but received 5" -> "expected string, got 5"; custom messages pass through. */
function reword(message: string): string {
  const m = /^Invalid [\w ]+: Expected (.*) but received (.*)$/s.exec(message);
  if (!m) return message;
  const expected = m[1]!.replace(/^\((.*)\)$/s, "$1");
  return `expected ${expected}, got ${m[2]}`;
}

/**
 * A union failed in every branch: say which keys were wrong or doubled instead of dumping each branch.
 * Unions of one-key objects (PathMatch) name their alternatives as `{key}` in their message; that list
 * tells a misspelt key from a valid one used in the wrong branch.
 */
function unionMessage(issue: Issue): string {
  const subs = issue.issues ?? [];
  const named = [...issue.message.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const alternatives = new Set(named.length > 0 ? named : subs.filter(isMissingKey).map(lastKey));
  const notes: string[] = [];
  const input = issue.input;
  if (input !== null && typeof input === "object" && !Array.isArray(input)) {
    // A key every branch accepts (PathMatch's mergeSlashes) is not an alternative, yet not unknown either.
    const unknown = new Set(subs.filter(isUnknownKey).map(lastKey));
    for (const k of Object.keys(input)) if (alternatives.size > 0 && !alternatives.has(k) && unknown.has(k)) notes.push(`unknown key "${k}"`);
    const present = Object.keys(input).filter((k) => alternatives.has(k));
    if (present.length > 1) notes.push(`found ${present.join(" and ")}; use only one`);
  }
  for (const s of subs) {
    // Pathless sub-issues only repeat what the union's own message says.
    if (isUnknownKey(s) || isMissingKey(s) || (s.path?.length ?? 0) === 0) continue;
    notes.push(`${formatPath(segments(s))}: ${reword(s.message)}`);
  }
  const base = reword(issue.message);
  return notes.length === 0 ? base : `${base} (${[...new Set(notes)].join("; ")})`;
}

function mapOne(issue: Issue, source: string): ConfigIssue {
  const segs = segments(issue);
  const last = issue.path?.[issue.path.length - 1] as { origin?: string } | undefined;
  if (isUnknownKey(issue)) {
    return { source, path: formatPath(segs.slice(0, -1)), message: `unknown key "${lastKey(issue)}"` };
  }
  if (isMissingKey(issue)) return { source, path: formatPath(segs), message: "is required" };
  if (last?.origin === "key") {
    return { source, path: formatPath(segs), message: `invalid name "${lastKey(issue)}": ${reword(issue.message)}` };
  }
  if (issue.type === "union") return { source, path: formatPath(segs), message: unionMessage(issue) };
  return { source, path: formatPath(segs), message: reword(issue.message) };
}

export function mapSchemaIssues(issues: readonly Issue[], source: string): ConfigIssue[] {
  return issues.map((i) => mapOne(i, source));
}
