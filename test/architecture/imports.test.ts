// The layer rules as a test: it reads every import statement and fails on a forbidden arrow or a folder cycle in
// shared/. The second block shows the checker failing on the two arrows it exists to stop.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { checkLayers, collectEdges, sharedCycles } from "../support/import-graph.ts";

const ROOT = resolve(import.meta.dir, "../..");
const edges = collectEdges(ROOT);

describe("imports follow the layers", () => {
  test("the repo has imports to check (the scanner works)", () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges.some((e) => e.from === "gateway/assemble.ts" && e.to === "member/run.ts")).toBe(true);
  });
  test("no forbidden arrow: assemblies → member → runtime adapters → shared, never back", () => {
    expect(checkLayers(edges)).toEqual([]);
  });
  test("no folder cycle inside shared/", () => {
    expect(sharedCycles(edges)).toEqual([]);
  });
});

describe("the checker catches what it exists to catch", () => {
  test("a reintroduced gateway → sidecar import", () => {
    const bad = checkLayers([...edges, { from: "gateway/main.ts", to: "sidecar/outbound-listener.ts" }]);
    expect(bad).toEqual(["gateway/main.ts → sidecar/outbound-listener.ts: assemblies never import each other"]);
  });
  test("a shared → runtime import, by path or by module", () => {
    const bad = checkLayers([
      { from: "shared/proxy/downstream.ts", to: "runtime/bun/http-server.ts" },
      { from: "shared/config/parse.ts", to: "node:fs" },
      { from: "member/join.ts", to: "runtime/bun/mesh-client.ts" },
    ]);
    expect(bad).toHaveLength(3);
  });
  test("a cycle between two shared/ folders", () => {
    const cycles = sharedCycles([
      { from: "shared/config/schema.ts", to: "shared/proxy/errors.ts" },
      { from: "shared/proxy/errors.ts", to: "shared/config/issues.ts" },
    ]);
    expect(cycles).toEqual(["shared/config → shared/proxy → shared/config"]);
  });
});
