// The `yaml` library stays unloaded in a sidecar whose config is plain YAML (issue 11: parsers a mode doesn't use
// need not load), and loads the moment a text needs it. Checked in a child process: this one has loaded it already.
import { expect, test } from "bun:test";
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const at = (p: string) => JSON.stringify(resolve(ROOT, p));

// The sidecar's whole module graph (what sidecar/main.ts imports), then a plain file config, plain KV documents and
// finally a text only `yaml` reads (a duplicate key): after each step, whether any module of `yaml` is loaded.
const SCRIPT = `
const { valueImports } = await import(${at("tools/memory-stats.ts")});
for (const s of valueImports(${at("sidecar/main.ts")})) await import(s);
const { parseMeshConfig } = await import(${at("shared/config/parse.ts")});
const { assembleKvDocuments } = await import(${at("shared/config/kv-documents.ts")});
const loaded = () => Object.keys(require.cache).some((k) => k.includes("/node_modules/yaml/"));
const out = { graph: loaded() };
const file = await parseMeshConfig(await Bun.file(${at("deploy/examples/demo.yaml")}).text(), "demo.yaml");
out.file = { ok: file.ok, loaded: loaded() };
const kv = await assembleKvDocuments([{ key: "mesh/services/echo", value: "instances: [{ id: a, address: 127.0.0.1, port: 1 }]\\n" }], "mesh/", new Map());
out.kv = { issues: kv.issues.length, loaded: loaded() };
const dup = await parseMeshConfig("namespace: a\\nnamespace: b\\n", "dup.yaml");
out.fallback = { messages: dup.ok ? [] : dup.issues.map((i) => i.message), loaded: loaded() };
console.log(JSON.stringify(out));
`;

test("a sidecar reading plain configs never loads `yaml`; a text that needs it loads it and gets its errors", () => {
  const r = Bun.spawnSync([process.execPath, "-e", SCRIPT], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  expect(r.stderr.toString()).toBe("");
  expect(r.exitCode).toBe(0);
  const out = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
  expect(out).toEqual({
    graph: false,
    file: { ok: true, loaded: false },
    kv: { issues: 0, loaded: false },
    fallback: { messages: ["YAML syntax error at 2:1: Map keys must be unique"], loaded: true },
  });
});
