// Guards deploy/schema/mesh.schema.json: it must equal freshly generated output (run `bun run schema` to refresh),
// and it must accept the shipped examples and refuse structural mistakes, checked with a tiny draft-07 subset validator.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { SCHEMA_FILE_URL, SCHEMA_ID, meshJsonSchema, meshJsonSchemaText } from "./emit-schema.ts";

type S = Record<string, any>;

/** Just the keywords the generated schema uses; an unknown keyword fails loudly so this cannot silently pass. */
function errors(schema: S, value: unknown, path = "$"): string[] {
  const KNOWN = new Set(["$schema", "$id", "title", "description", "type", "properties", "required", "additionalProperties",
    "propertyNames", "items", "anyOf", "enum", "const", "pattern", "minimum", "maximum", "minItems"]);
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) throw new Error(`validator does not know keyword ${k} at ${path}`);
  const out: string[] = [];
  if (schema.anyOf) {
    if (!(schema.anyOf as S[]).some((s) => errors(s, value, path).length === 0)) out.push(`${path}: no anyOf branch matches`);
  }
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) out.push(`${path}: not in enum`);
  if ("const" in schema && schema.const !== value) out.push(`${path}: not const`);
  const t = schema.type as string | undefined;
  const isObj = value !== null && typeof value === "object" && !Array.isArray(value);
  const typeOk =
    t === undefined ||
    (t === "object" && isObj) ||
    (t === "array" && Array.isArray(value)) ||
    (t === "string" && typeof value === "string") ||
    (t === "boolean" && typeof value === "boolean") ||
    (t === "number" && typeof value === "number") ||
    (t === "integer" && Number.isInteger(value));
  if (!typeOk) return [...out, `${path}: expected ${t}`];
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)) out.push(`${path}: pattern`);
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) out.push(`${path}: below minimum`);
    if (schema.maximum !== undefined && value > schema.maximum) out.push(`${path}: above maximum`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) out.push(`${path}: too few items`);
    if (schema.items) value.forEach((item, i) => out.push(...errors(schema.items, item, `${path}[${i}]`)));
  }
  if (isObj) {
    const obj = value as Record<string, unknown>;
    for (const r of (schema.required ?? []) as string[]) if (!(r in obj)) out.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(obj)) {
      if (schema.propertyNames) out.push(...errors(schema.propertyNames, k, `${path}{${k}}`));
      if (schema.properties && k in schema.properties) out.push(...errors(schema.properties[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${path}.${k}: not allowed`);
      else if (typeof schema.additionalProperties === "object") out.push(...errors(schema.additionalProperties, v, `${path}.${k}`));
    }
  }
  return out;
}

const committed = readFileSync(SCHEMA_FILE_URL, "utf8");
const demo = parseYaml(readFileSync(new URL("../../deploy/examples/demo.yaml", import.meta.url), "utf8"));

describe("deploy/schema/mesh.schema.json", () => {
  test("matches freshly generated output (run `bun run schema` if this fails)", () => {
    expect(committed).toBe(meshJsonSchemaText());
  });
  test("carries its identity", () => {
    const s = meshJsonSchema();
    expect(s.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(s.$id).toBe(SCHEMA_ID);
    expect(typeof s.title).toBe("string");
    expect(typeof s.description).toBe("string");
  });
  test("accepts the shipped examples", () => {
    expect(errors(JSON.parse(committed), demo)).toEqual([]);
    const split = parseYaml(readFileSync(new URL("../../deploy/examples/echo-50-50.yaml", import.meta.url), "utf8"));
    expect(errors(JSON.parse(committed), split)).toEqual([]);
  });
  test("refuses structural mistakes", () => {
    const schema = JSON.parse(committed);
    const bad = structuredClone(demo);
    bad.extra = 1;
    bad.services.echo.instances[0].port = 0;
    bad.routes[0].match.path = { exact: "/", prefix: "/" };
    bad.gateway.routes[0].action.policy = { timeout: "5 seconds" };
    expect(errors(schema, bad)).toEqual([
      "$.services.echo.instances[0].port: below minimum",
      "$.routes[0].match.path: no anyOf branch matches",
      "$.gateway.routes[0].action.policy.timeout: pattern",
      "$.extra: not allowed",
    ]);
  });
});
