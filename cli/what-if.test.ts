// Unit tests for `meshctl what-if`: route, service and authorization changes between two configs, and the example
// request each changed route now gets differently.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseMeshConfig } from "../shared/config/parse.ts";
import type { MeshConfig } from "../shared/config/schema.ts";
import { formatWhatIf, hasChanges, whatIf } from "./what-if.ts";

async function load(name: string): Promise<MeshConfig> {
  const file = join(import.meta.dir, "../deploy/examples", name);
  const p = await parseMeshConfig(await Bun.file(file).text(), file);
  if (!p.ok) throw new Error(`${name} invalid`);
  return p.config;
}

const demo = await load("demo.yaml");
const fifty = await load("echo-50-50.yaml");

describe("whatIf", () => {
  test("the same config: no changes", () => {
    expect(hasChanges(whatIf(demo, demo))).toBe(false);
    expect(formatWhatIf(whatIf(demo, demo))).toBe("no changes");
  });

  test("80/20 → 50/50: echo-split's weights, with an example request before → after", () => {
    const w = whatIf(demo, fifty);
    const r = w.routes.find((x) => x.table === "mesh" && x.name === "echo-split")!;
    expect(r.aspects).toEqual(["weights"]);
    expect(r.weights).toEqual({ before: "echo/v1 80, echo/v2 20", after: "echo/v1 50, echo/v2 50" });
    expect(r.example).toEqual({ request: "GET echo /", before: "echo-split: echo/v1 80, echo/v2 20", after: "echo-split: echo/v1 50, echo/v2 50" });
    expect(w.services).toEqual([]);
  });

  test("removed route, changed service, added authorization", () => {
    const next: MeshConfig = {
      ...demo,
      routes: [],
      services: { ...demo.services, web: { instances: [] } },
      authorization: { echo: { default: "deny" } },
    };
    const w = whatIf(demo, next);
    const removed = w.routes.find((x) => x.name === "echo-split")!;
    expect(removed.change).toBe("removed");
    // Without echo-split, "echo" still reaches the service through its implicit default route.
    expect(removed.example?.after).toBe("default-echo: echo 1");
    expect(w.services).toEqual([{ name: "web", change: "changed", aspects: ["instances"] }]);
    expect(w.authorization).toEqual([{ name: "echo", change: "added" }]);
  });
});
