// Text in, validated MeshConfig or every problem out: YAML syntax, then schema, then semantic rules.
// JSON is valid YAML, so one reader (yaml-text.ts) serves both file formats.
import * as v from "valibot";
import { MeshConfig } from "./schema.ts";
import { ROOT_PATH, type ConfigIssue } from "./issues.ts";
import { mapSchemaIssues } from "./schema-issues.ts";
import { validateMeshConfig } from "./validate.ts";
import { readYaml } from "./yaml-text.ts";

export type ParseResult = { ok: true; config: MeshConfig } | { ok: false; issues: ConfigIssue[] };

export async function parseMeshConfig(text: string, source: string): Promise<ParseResult> {
  const read = await readYaml(text);
  if (!read.ok) return { ok: false, issues: read.messages.map((message) => ({ source, path: ROOT_PATH, message })) };
  return checkMeshData(read.data, source);
}

/** Data already read from YAML or JSON to a validated MeshConfig, or every problem: schema, then semantic rules. */
export function checkMeshData(data: unknown, source: string): ParseResult {
  // An empty document is refused rather than read as "no routes": a half-written file must not wipe the mesh.
  if (data === null || data === undefined) {
    return { ok: false, issues: [{ source, path: ROOT_PATH, message: "the document is empty" }] };
  }
  if (typeof data !== "object" || Array.isArray(data)) {
    const got = Array.isArray(data) ? "a list" : typeof data;
    return { ok: false, issues: [{ source, path: ROOT_PATH, message: `the document must be a mapping (trustDomain, services, routes, ...), got ${got}` }] };
  }

  const result = v.safeParse(MeshConfig, data);
  if (!result.success) return { ok: false, issues: mapSchemaIssues(result.issues, source) };

  const semantic = validateMeshConfig(result.output).map((i) => ({ ...i, source }));
  if (semantic.length > 0) return { ok: false, issues: semantic };
  return { ok: true, config: result.output };
}
