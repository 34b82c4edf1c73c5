// Writes deploy/grafana/*.json from the dashboard specs next to this file: `bun run deploy/grafana/build/generate.ts`.
// `--check` writes nothing and exits 1 when a JSON file differs from what the specs produce (the tests call render()).
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { meshOverview } from "./mesh-overview.ts";
import { service } from "./service.ts";
import { meshHealth } from "./mesh-health.ts";

export const GRAFANA_DIR = resolve(import.meta.dir, "..");

/** File name -> the exact text it should hold. */
export function render(): Record<string, string> {
  const text = (d: unknown) => `${JSON.stringify(d, null, 2)}\n`;
  return { "mesh-overview.json": text(meshOverview), "service.json": text(service), "mesh-health.json": text(meshHealth) };
}

if (import.meta.main) {
  const check = process.argv.includes("--check");
  let stale = 0;
  for (const [name, want] of Object.entries(render())) {
    const path = join(GRAFANA_DIR, name);
    if (check) {
      let have = "";
      try {
        have = readFileSync(path, "utf8");
      } catch {
        // missing counts as stale
      }
      if (have !== want) {
        console.error(`${path} is stale: run bun run deploy/grafana/build/generate.ts`);
        stale++;
      }
    } else {
      writeFileSync(path, want);
      console.log(`wrote ${path}`);
    }
  }
  process.exit(stale === 0 ? 0 : 1);
}
