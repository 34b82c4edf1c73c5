// Checks deploy/prometheus and deploy/grafana with the real tools: promtool check config / check rules / test rules,
// the Consul relabeling run by a real Prometheus, annotations on every alert, and every dashboard's shape.
import { beforeAll, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { prometheusBinaries, promtool, startPrometheus } from "../deploy/lib/prometheus.ts";
import { GRAFANA_DIR, render } from "../deploy/grafana/build/generate.ts";
import { until } from "./support/until.ts";

const PROM_DIR = resolve(import.meta.dir, "../deploy/prometheus");
const ruleFiles = readdirSync(join(PROM_DIR, "rules")).filter((f) => f.endsWith(".yml")).map((f) => join(PROM_DIR, "rules", f));
const testFiles = readdirSync(join(PROM_DIR, "tests")).filter((f) => f.endsWith(".yml")).map((f) => join(PROM_DIR, "tests", f));
const dashboardFiles = readdirSync(GRAFANA_DIR).filter((f) => f.endsWith(".json"));

type Rule = { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type RuleFile = { groups: Array<{ name: string; rules: Rule[] }> };
const rules = ruleFiles.flatMap((f) => (parse(readFileSync(f, "utf8")) as RuleFile).groups.flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert !== undefined);
const records = rules.filter((r) => r.record !== undefined);

const must = (run: { code: number; stdout: string; stderr: string }, what: string) => {
  if (run.code !== 0) throw new Error(`${what} failed (${run.code}):\n${run.stdout}\n${run.stderr}`);
};

beforeAll(async () => {
  await prometheusBinaries(); // the first run fetches Debian's package (~20 MB)
}, 180_000);

test("promtool check config: the file-mode scrape config and its rule files", async () => {
  must(await promtool(["check", "config", "prometheus.file.yml"], PROM_DIR), "promtool check config prometheus.file.yml");
});

test("promtool check config: the Consul scrape config (Consul SD checked by a build that has it, the rest by any build)", async () => {
  const real = await promtool(["check", "config", "--syntax-only", "prometheus.consul.yml"], PROM_DIR);
  if (real.code === 0) return;
  // Debian's prometheus package is built without Consul service discovery ("field consul_sd_configs not found"); the
  // upstream release binaries have it. Check everything else with that build: the same job with the same relabeling.
  expect(real.stdout + real.stderr).toContain("field consul_sd_configs not found");
  const config = parse(readFileSync(join(PROM_DIR, "prometheus.consul.yml"), "utf8")) as { scrape_configs: Array<Record<string, unknown>> };
  const job = config.scrape_configs[0]!;
  const sd = job.consul_sd_configs as Array<Record<string, unknown>>;
  // The fields used are Consul SD's (prometheus.io/docs/prometheus/latest/configuration/configuration/#consul_sd_config).
  const known = ["server", "token", "datacenter", "namespace", "partition", "scheme", "services", "tags", "node_meta", "tag_separator", "allow_stale", "refresh_interval", "path_prefix", "authorization", "basic_auth", "oauth2", "tls_config", "proxy_url", "follow_redirects", "enable_http2"];
  for (const c of sd) for (const k of Object.keys(c)) expect(known).toContain(k);
  delete job.consul_sd_configs;
  job.static_configs = [{ targets: ["consul.invalid:1"] }];
  const dir = mkdtempSync(join(tmpdir(), "mesh-promcheck-"));
  try {
    cpSync(join(PROM_DIR, "rules"), join(dir, "rules"), { recursive: true });
    writeFileSync(join(dir, "prometheus.yml"), stringify(config));
    must(await promtool(["check", "config", "prometheus.yml"], dir), "promtool check config (Consul job with static targets)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("promtool check rules: every rule file", async () => {
  expect(ruleFiles.length).toBeGreaterThanOrEqual(2);
  for (const f of ruleFiles) must(await promtool(["check", "rules", f]), `promtool check rules ${f}`);
});

test("promtool test rules: every test file", async () => {
  expect(testFiles.length).toBeGreaterThanOrEqual(2);
  for (const f of testFiles) must(await promtool(["test", "rules", f]), `promtool test rules ${f}`);
}, 30_000);

test("every alert has severity, summary, description and a one-line runbook", () => {
  expect(alerts.map((a) => a.alert).sort()).toEqual(expect.arrayContaining(["MeshCertificateExpiringSoon", "MeshConfigRejected", "MeshConsulWatchFailing", "MeshHigh5xxRatio", "MeshHighP99Latency", "MeshMemberDown"]));
  for (const a of alerts) {
    const ann = a.annotations ?? {};
    for (const k of ["summary", "description", "runbook"]) expect({ alert: a.alert, [k]: (ann[k] ?? "").trim().length > 10 }).toEqual({ alert: a.alert, [k]: true });
    expect(ann.runbook).not.toContain("\n");
    expect(["critical", "warning"]).toContain(a.labels?.severity ?? "");
  }
});

test("every alert has promtool tests that see it firing and not firing; every recording rule is tested", () => {
  type AlertTest = { alertname: string; exp_alerts?: unknown[] };
  type UnitTests = { tests: Array<{ alert_rule_test?: AlertTest[]; promql_expr_test?: Array<{ expr: string }> }> };
  const units = testFiles.flatMap((f) => (parse(readFileSync(f, "utf8")) as UnitTests).tests);
  const alertTests = units.flatMap((u) => u.alert_rule_test ?? []);
  for (const a of alerts) {
    const mine = alertTests.filter((t) => t.alertname === a.alert);
    expect({ alert: a.alert, fires: mine.some((t) => (t.exp_alerts ?? []).length > 0) }).toEqual({ alert: a.alert, fires: true });
    expect({ alert: a.alert, silent: mine.some((t) => (t.exp_alerts ?? []).length === 0) }).toEqual({ alert: a.alert, silent: true });
  }
  const exprs = units.flatMap((u) => u.promql_expr_test ?? []).map((t) => t.expr);
  for (const r of records) expect({ record: r.record, tested: exprs.some((e) => e.startsWith(r.record!)) }).toEqual({ record: r.record, tested: true });
});

test("the Consul relabeling, run by a real Prometheus on Consul SD labels, keeps mesh members and finds their metrics port", async () => {
  const config = parse(readFileSync(join(PROM_DIR, "prometheus.consul.yml"), "utf8")) as { scrape_configs: Array<{ relabel_configs: unknown[] }> };
  // The labels consul_sd_configs gives each catalog entry (only the ones the relabeling reads).
  const entry = (id: string, meta: Record<string, string>, serviceAddress = "10.0.0.5") => ({
    targets: ["consul.invalid:1"],
    labels: {
      __meta_consul_address: "10.0.0.1", __meta_consul_node: "vm-1", __meta_consul_service_id: id, __meta_consul_service_address: serviceAddress,
      ...Object.fromEntries(Object.entries(meta).map(([k, v]) => [`__meta_consul_service_metadata_${k}`, v])),
    },
  });
  const prom = await startPrometheus({
    config: stringify({
      global: { scrape_interval: "1h" },
      scrape_configs: [{
        job_name: "mesh",
        relabel_configs: config.scrape_configs[0]!.relabel_configs,
        static_configs: [
          entry("echo-v1", { kind: "sidecar", metrics_port: "15000" }),
          entry("gateway-8080", { kind: "gateway", metrics_port: "15100", metrics_address: "10.0.0.9" }),
          entry("legacy-1", { kind: "sidecar", metrics_port: "15001" }, ""),
          entry("old-sidecar", { kind: "sidecar" }), // registered without metrics_port: not scraped
          entry("postgres", { metrics_port: "9187" }), // not a mesh member
        ],
      }],
    }),
  });
  try {
    type Targets = { activeTargets: Array<{ labels: Record<string, string>; scrapeUrl: string }>; droppedTargets: Array<{ discoveredLabels: Record<string, string> }> };
    // Prometheus hands discovered targets to the scrape manager on 5 s tickers, so they show up about 5 s after start
    // (5.2 s here when idle). A loop of 50 × 100 ms sat on that edge and failed once in CI under load: wait on time.
    // On a timeout the expects below say what Prometheus did show.
    let t: Targets = { activeTargets: [], droppedTargets: [] };
    await until(async () => {
      t = await prom.api<Targets>("targets");
      return t.activeTargets.length + t.droppedTargets.length >= 5;
    }, 20_000, 100).catch(() => undefined);
    const active = Object.fromEntries(t.activeTargets.map((a) => [a.labels.instance, { url: a.scrapeUrl, node: a.labels.consul_node, job: a.labels.job }]));
    expect(active).toEqual({
      "echo-v1": { url: "http://10.0.0.5:15000/metrics", node: "vm-1", job: "mesh" },
      "gateway-8080": { url: "http://10.0.0.9:15100/metrics", node: "vm-1", job: "mesh" },
      "legacy-1": { url: "http://10.0.0.1:15001/metrics", node: "vm-1", job: "mesh" },
    });
    expect(t.droppedTargets.map((d) => d.discoveredLabels.__meta_consul_service_id).sort()).toEqual(["old-sidecar", "postgres"]);
  } finally {
    await prom.stop();
  }
}, 30_000);

test("every dashboard parses, uses the ${datasource} variable everywhere, and every panel has a target with an expr", () => {
  expect(dashboardFiles.sort()).toEqual(["mesh-health.json", "mesh-overview.json", "service.json"]);
  type Target = { expr?: string; datasource?: { uid?: string } };
  type Panel = { type: string; title: string; datasource?: { uid?: string }; targets?: Target[]; panels?: Panel[] };
  type Dashboard = { uid: string; schemaVersion: number; templating: { list: Array<{ name: string; type: string; query: unknown }> }; panels: Panel[] };
  for (const f of dashboardFiles) {
    const d = JSON.parse(readFileSync(join(GRAFANA_DIR, f), "utf8")) as Dashboard;
    expect(d.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(d.uid.length).toBeGreaterThan(0);
    expect(d.templating.list.find((v) => v.name === "datasource")).toMatchObject({ type: "datasource", query: "prometheus" });
    const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== "row");
    expect(panels.length).toBeGreaterThan(3);
    for (const p of panels) {
      const where = `${f}: ${p.title}`;
      expect({ where, ds: p.datasource?.uid }).toEqual({ where, ds: "${datasource}" });
      const targets = p.targets ?? [];
      expect({ where, withExpr: targets.filter((t) => (t.expr ?? "").trim() !== "").length > 0 }).toEqual({ where, withExpr: true });
      for (const t of targets) expect({ where, ds: t.datasource?.uid }).toEqual({ where, ds: "${datasource}" });
    }
  }
});

test("the dashboard JSON files are what deploy/grafana/build generates (edit the specs, then run generate.ts)", () => {
  for (const [name, want] of Object.entries(render())) expect({ name, same: readFileSync(join(GRAFANA_DIR, name), "utf8") === want }).toEqual({ name, same: true });
});
