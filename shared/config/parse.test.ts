// Tests for parseMeshConfig: YAML syntax errors, schema errors with readable paths, and the shipped examples.
// Semantic rules have their own tests in validate.test.ts.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { parseMeshConfig } from "./parse.ts";

async function issues(text: string): Promise<string[]> {
  const r = await parseMeshConfig(text, "t.yaml");
  if (r.ok) throw new Error("expected the config to be rejected");
  for (const i of r.issues) expect(i.source).toBe("t.yaml");
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

describe("YAML", () => {
  test("syntax errors carry line:col", async () => {
    const out = await issues("services:\n  echo: {\n  bad: [1, 2\n");
    expect(out.length).toBeGreaterThan(0);
    for (const line of out) expect(line).toMatch(/^\(root\): YAML syntax error at \d+:\d+: /);
  });
  test("duplicate keys are syntax errors", async () => {
    expect(await issues("namespace: a\nnamespace: b\n")).toEqual(["(root): YAML syntax error at 2:1: Map keys must be unique"]);
  });
  test("JSON is accepted", async () => {
    const r = await parseMeshConfig('{"namespace": "prod", "services": {"a": {}}}', "t.json");
    expect(r.ok && r.config.namespace).toBe("prod");
  });
  test("empty and non-mapping documents are refused", async () => {
    expect(await issues("")).toEqual(["(root): the document is empty"]);
    expect(await issues("# only a comment\n")).toEqual(["(root): the document is empty"]);
    expect(await issues("- a\n- b\n")).toEqual(["(root): the document must be a mapping (trustDomain, services, routes, ...), got a list"]);
  });
});

describe("schema", () => {
  test("unknown keys are named at their parent's path", async () => {
    expect(await issues("foo: 1\n")).toEqual(['(root): unknown key "foo"']);
    expect(await issues("services:\n  echo:\n    instancs: []\n")).toEqual(['services.echo: unknown key "instancs"']);
  });
  test("every structural issue is returned, with a.b[3].c paths", async () => {
    const text = [
      "services:",
      "  Bad_: {}",
      "  echo: { instances: [{ id: a, address: x, port: 0 }] }",
      "routes:",
      "  - action: {}",
      "  - name: b",
      "    action: { policy: { loadBalancer: random } }",
    ].join("\n");
    expect(await issues(text)).toEqual([
      `services.Bad_: invalid name "Bad_": must be a DNS label: lowercase letters, digits and '-', 1-63 chars`,
      "services.echo.instances[0].port: expected >=1, got 0",
      "routes[0].name: is required",
      'routes[1].action.policy.loadBalancer: expected "round_robin" | "least_request" | "ring_hash" | "maglev", got "random"',
    ]);
  });
  test("union messages say what was wrong", async () => {
    const route = (path: string) => `routes:\n  - name: r\n    match: { path: ${path} }\n    action: { directResponse: { status: 200 } }\n`;
    expect(await issues(route('{ exactt: "/" }'))).toEqual(['routes[0].match.path: must be one of {exact}, {prefix} or {regex} (unknown key "exactt")']);
    expect(await issues(route('{ exact: "/", prefix: "/" }'))).toEqual([
      "routes[0].match.path: must be one of {exact}, {prefix} or {regex} (found exact and prefix; use only one)",
    ]);
    expect(await issues(route("{ exact: 5 }"))).toEqual(["routes[0].match.path: must be one of {exact}, {prefix} or {regex} (exact: expected string, got 5)"]);
    // mergeSlashes is valid next to every alternative, so it is never called an unknown key.
    expect(await issues(route("{ prefix: /a, mergeSlashes: yes }"))).toEqual([
      'routes[0].match.path: must be one of {exact}, {prefix} or {regex} (mergeSlashes: expected boolean, got "yes")',
    ]);
    expect(await issues(route("{ prefix: /a, mergeSlashes: true, mergeslashes: true }"))).toEqual([
      'routes[0].match.path: must be one of {exact}, {prefix} or {regex} (unknown key "mergeslashes")',
    ]);
  });
  test("semantic rules run only on structurally valid configs", async () => {
    // The unknown service would be a semantic issue, but the schema error comes first.
    const out = await issues("foo: 1\nroutes: [{ name: r, action: { destinations: [{ service: nope }] } }]\n");
    expect(out).toEqual(['(root): unknown key "foo"']);
  });
});

describe("shipped examples", () => {
  for (const name of ["demo.yaml", "echo-50-50.yaml"]) {
    test(`deploy/examples/${name} is valid`, async () => {
      const text = readFileSync(new URL(`../../deploy/examples/${name}`, import.meta.url), "utf8");
      const r = await parseMeshConfig(text, name);
      if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
      expect(Object.keys(r.config.services ?? {})).toEqual(["echo", "web"]);
      expect(r.config.gateway?.routes.map((x) => x.name)).toEqual(["healthz", "echo", "web"]);
      const weights = r.config.routes?.[0]?.action.destinations?.map((d) => d.weight);
      expect(weights).toEqual(name === "demo.yaml" ? [80, 20] : [50, 50]);
    });
  }
  for (const name of ["resilience.yaml", "resilience-fault.yaml"]) {
    test(`deploy/examples/${name} is valid and keeps the demo's instances`, async () => {
      const r = await parseMeshConfig(readFileSync(new URL(`../../deploy/examples/${name}`, import.meta.url), "utf8"), name);
      if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
      expect(r.config.services?.echo?.instances?.map((i) => i.id)).toEqual(["echo-v1", "echo-v2"]);
      expect(r.config.services?.echo?.policy?.outlierDetection).toBeDefined();
      expect(r.config.services?.echo?.policy?.fault !== undefined).toBe(name === "resilience-fault.yaml");
    });
  }
});

test("every complete example in docs/config.md is valid", async () => {
  const md = readFileSync(new URL("../../docs/config.md", import.meta.url), "utf8");
  const blocks = [...md.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes("gateway:") && b.includes("listeners:"));
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  for (const b of blocks) {
    const r = await parseMeshConfig(b, "docs/config.md");
    if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  }
  // The first one is the demo, verbatim (minus the file's header comments).
  const demo = readFileSync(new URL("../../deploy/examples/demo.yaml", import.meta.url), "utf8");
  expect(demo.endsWith(blocks[0]!)).toBe(true);
});
