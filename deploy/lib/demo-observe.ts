// `npm run demo -- --observe`: a real Prometheus (the shipped file-mode scrape config, recording rules and alerts)
// scraping the demo's members. Prometheus is optional: without it the demo runs on and says how to get it.
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { prometheusBinaries, startPrometheus, type PrometheusServer } from "./prometheus.ts";

const DIR = resolve(import.meta.dir, "../prometheus");

/** Prometheus with deploy/prometheus/prometheus.file.yml (scrapes every 5 s here), or the reason it could not start. */
export async function startDemoPrometheus(): Promise<PrometheusServer | string> {
  try {
    await prometheusBinaries();
  } catch (err) {
    return `Prometheus is not installed and could not be fetched (${err instanceof Error ? err.message.split("\n")[0] : String(err)}).
  Install it with: sudo apt-get install prometheus   (Debian/Ubuntu; or set PROMETHEUS_BIN=/path/to/prometheus)
  The demo runs on without it; every member still serves /metrics on its admin port.`;
  }
  const config = readFileSync(join(DIR, "prometheus.file.yml"), "utf8").replace(/scrape_interval: 15s/, "scrape_interval: 5s").replace(/evaluation_interval: 15s/, "evaluation_interval: 5s");
  const files: Record<string, string> = {};
  for (const f of readdirSync(join(DIR, "rules"))) files[`rules/${f}`] = readFileSync(join(DIR, "rules", f), "utf8");
  return startPrometheus({ config, files });
}
