// Unit tests of the provider contract: a text state is parsed and validated once; an assembled KV state is only
// checked for cross-document rules and handed on as the same object (no JSON round trip, no second parse).
import { expect, test } from "bun:test";
import { checkConfigState } from "./provider.ts";
import { createConfigWatcher } from "../build/watcher.ts";
import type { MeshConfig } from "./schema.ts";

test("a text state is parsed; an assembled state is passed on as the same object", async () => {
  const t = await checkConfigState({ source: "f.yaml", text: "services: { echo: {} }\n" });
  expect(t.result.ok).toBe(true);
  expect(t.key).toBe("services: { echo: {} }\n");
  const assembled: MeshConfig = { services: { echo: {} }, routes: [] };
  const a = await checkConfigState({ source: "consul-kv mesh/ @7", key: "k7", assembled });
  expect(a.result.ok && a.result.config).toBe(assembled);
});

test("cross-document rules still apply to an assembled state, with its source", async () => {
  const assembled = { services: {}, routes: [{ name: "r", match: { host: ["x"] }, action: { destinations: [{ service: "gone" }] } }] } as MeshConfig;
  const a = await checkConfigState({ source: "consul-kv mesh/ @9", key: "k9", assembled });
  expect(a.result.ok).toBe(false);
  if (!a.result.ok) expect(a.result.issues[0]).toMatchObject({ source: "consul-kv mesh/ @9", path: "routes[0].action.destinations[0].service" });
});

test("the watcher compiles a checked state's config without checking it again", async () => {
  const config: MeshConfig = { services: { echo: {} } };
  const compiled: MeshConfig[] = [];
  async function* updates() {
    yield { source: "s", key: "k1", result: { ok: true as const, config } };
  }
  const w = createConfigWatcher({ updates: updates(), compile: (c) => (compiled.push(c), c), onApply: () => {}, onReject: () => {} });
  await w.done;
  expect(compiled).toEqual([config]);
  expect(compiled[0]).toBe(config);
});
