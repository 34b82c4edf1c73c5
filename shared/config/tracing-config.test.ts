// Tests for the tracing part of the config: `tracing.sampling` (percent) mesh-wide and per route, refused with path
// and reason when out of range, carried by the KV settings document, and compiled into sampling probabilities.
import { describe, expect, test } from "bun:test";
import { parseMeshConfig } from "./parse.ts";
import { assembleKvDocuments } from "./kv-documents.ts";
import { splitIntoKvDocuments } from "./kv-split.ts";
import { compileSnapshot } from "../build/compile.ts";

async function issues(text: string): Promise<string[]> {
  const r = await parseMeshConfig(text, "t.yaml");
  if (r.ok) throw new Error("expected the config to be rejected");
  return r.issues.map((i) => `${i.path}: ${i.message}`);
}

const RANGE = "must be a percentage from 0 to 100 (e.g. 1 = 1 %, 0.1 = one trace in a thousand)";

describe("tracing config", () => {
  test("out-of-range, non-numeric and misspelt values are refused with path and reason", async () => {
    expect(await issues("tracing: { sampling: 150 }\n")).toEqual([`tracing.sampling: ${RANGE}`]);
    expect(await issues("tracing: { sampling: -1 }\n")).toEqual([`tracing.sampling: ${RANGE}`]);
    expect(await issues("tracing: { sampling: .inf }\n")).toEqual([`tracing.sampling: ${RANGE}`]);
    expect(await issues("tracing: { sampling: '5' }\n")).toEqual(['tracing.sampling: expected number, got "5"']);
    expect(await issues("tracing: { rate: 1 }\n")).toEqual(['tracing: unknown key "rate"']);
    const route = "services: { echo: {} }\nroutes:\n  - { name: r, action: { destinations: [{ service: echo }] }, tracing: { sampling: 101 } }\n";
    expect(await issues(route)).toEqual([`routes[0].tracing.sampling: ${RANGE}`]);
    const gw = "services: { echo: {} }\ngateway:\n  listeners: [{ name: h, port: 0 }]\n  routes:\n    - { name: r, action: { directResponse: { status: 200 } }, tracing: { sampling: x } }\n";
    expect(await issues(gw)).toEqual(['gateway.routes[0].tracing.sampling: expected number, got "x"']);
  });

  test("percentages compile to probabilities: mesh default 1 %, mesh-wide value, per-route override", async () => {
    const compile = async (text: string) => {
      const r = await parseMeshConfig(text, "t.yaml");
      if (!r.ok) throw new Error(JSON.stringify(r.issues));
      return compileSnapshot(r.config, { version: 1, source: "t", forwarder: () => async () => new Response("") });
    };
    const base = "services: { echo: {} }\ngateway:\n  listeners: [{ name: h, port: 0 }]\n  routes:\n    - { name: all, match: { path: { prefix: /all } }, action: { destinations: [{ service: echo }] }, tracing: { sampling: 100 } }\n    - { name: plain, action: { destinations: [{ service: echo }] } }\n";
    expect((await compile(base)).traceSampling).toBe(0.01);
    const snap = await compile(`tracing: { sampling: 0.5 }\n${base}`);
    expect(snap.traceSampling).toBe(0.005);
    const at = (path: string) => {
      const hit = snap.gatewayRoutes.match({ method: "GET", host: "h", path, headers: new Headers(), query: new URLSearchParams() })!;
      return { name: hit.name, traceSampling: hit.value.traceSampling };
    };
    expect(at("/all")).toEqual({ name: "all", traceSampling: 1 });
    expect(at("/other")).toEqual({ name: "plain", traceSampling: undefined });
  });

  test("Consul KV: tracing lives in the settings document and round-trips through the split", async () => {
    const parsed = await parseMeshConfig("tracing: { sampling: 5 }\nservices: { echo: {} }\n", "t.yaml");
    if (!parsed.ok) throw new Error("expected ok");
    const docs = splitIntoKvDocuments(parsed.config, "mesh/");
    expect(docs.get("mesh/settings")).toContain("sampling: 5");
    const r = await assembleKvDocuments([...docs].map(([key, value]) => ({ key, value })), "mesh/", new Map());
    expect(r.issues).toEqual([]);
    expect(r.config.tracing).toEqual({ sampling: 5 });
    const bad = await assembleKvDocuments([{ key: "mesh/settings", value: "tracing: { sampling: 500 }" }], "mesh/", new Map());
    expect(bad.issues.map((i) => `${i.source}: ${i.path}: ${i.message}`)).toEqual([`mesh/settings: tracing.sampling: ${RANGE}`]);
  });
});
