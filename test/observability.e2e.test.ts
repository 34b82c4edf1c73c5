// End to end: the demo mesh (Consul mode) scraped by a real Prometheus with the shipped rules; after traffic with errors,
// every dashboard panel's query and every recording/alert expression must return data, except the few listed below.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parse, stringify } from "yaml";
import { ProcessGroup, BUN } from "../deploy/lib/process-group.ts";
import { freeBlock, freePort } from "../deploy/lib/ports.ts";
import { demoPlan } from "../deploy/lib/demo-plan.ts";
import { startPrometheus, type PrometheusServer } from "../deploy/lib/prometheus.ts";
import { parseMeshConfig } from "../shared/config/parse.ts";

const ROOT = resolve(import.meta.dir, "..");
const PROM_DIR = join(ROOT, "deploy/prometheus");
const GRAFANA_DIR = join(ROOT, "deploy/grafana");
const TRAFFIC_MS = 12_000;
/** The per-service dashboard is checked for this service: it serves (inbound), calls echo (outbound, retries) and denies. */
const SERVICE = "web";

/**
 * Panel and rule queries that may return nothing in a healthy run, with the reason; everything else must return at least
 * one series. Keys: "<dashboard file>: <panel title>", "record: <name>", "alert: <name>: <series it reads>".
 * None today: the members create every counter at zero when they start (watch errors, config rejections, each TLS refusal
 * reason), so even the panels of things that did not happen show a 0 line rather than "no data".
 */
const MAY_BE_EMPTY: Record<string, string> = {};

/**
 * What each alert's whole expression (threshold included) returns in this run. With thresholds, empty is the healthy
 * answer; the traffic's /broken and /v3 requests make ~20% of the gateway's responses 5xx, so MeshHigh5xxRatio has data
 * (and goes pending: its `for` is 5 minutes).
 */
const ALERT_EXPR_IN_THIS_RUN: Record<string, "data" | "empty"> = {
  MeshHigh5xxRatio: "data",
  MeshHighP99Latency: "empty", // p99 stays far below 1 s
  MeshCertificateExpiringSoon: "empty", // fresh 24 h leaves
  MeshTrustRootExpiringSoon: "empty", // a fresh root
  MeshConfigRejected: "empty", // the broken document was removed before the traffic
  MeshConfigHeld: "empty", // the KV prefix is never lost
  MeshMemberDown: "empty", // every member stays up
  MeshConsulWatchFailing: "empty", // Consul stays up
  MeshNoHealthyEndpoints: "empty", // echo and web have endpoints (echo's subset v3 has none, but the gauge is per service)
};

const group = new ProcessGroup();
let prom: PrometheusServer | undefined;
let consul = "";
const dir = mkdtempSync(join(tmpdir(), "mesh-obs-"));
const statuses: Record<string, Record<number, number>> = {};
let refused = 0;

type Rule = { alert?: string; record?: string; expr: string };
const rules: Rule[] = readdirSync(join(PROM_DIR, "rules"))
  .filter((f) => f.endsWith(".yml"))
  .flatMap((f) => (parse(readFileSync(join(PROM_DIR, "rules", f), "utf8")) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules));

/** The demo config on a free port block, plus what makes errors: a deny rule, a route to a dead subset, one to an empty one. */
async function writeConfig(dir: string): Promise<string> {
  const offsets = [0, 1, 2, 11, 1300];
  for (const o of [1, 2, 11]) offsets.push(o + 100, o + 200, o + 300);
  const base = await freeBlock(offsets);
  const text = readFileSync(join(ROOT, "deploy/examples/demo.yaml"), "utf8")
    .replaceAll("9101", String(base + 1))
    .replaceAll("9102", String(base + 2))
    .replaceAll("9111", String(base + 11))
    .replace("port: 8080", `port: ${base}`);
  type Cfg = { services: Record<string, { subsets?: Record<string, unknown> }>; gateway: { routes: Array<Record<string, unknown>> }; authorization?: unknown };
  const config = parse(text) as Cfg;
  // echo's "down" subset: only the dead instance registered below; "v3": no instance at all.
  config.services.echo!.subsets = { ...config.services.echo!.subsets, down: { tags: ["down"] }, v3: { tags: ["v3"] } };
  const echo = config.gateway.routes.find((r) => r.name === "echo")!;
  echo.action = { ...(echo.action as object), policy: { retries: { attempts: 2, on: ["connect-failure", "reset", 503] } } };
  config.gateway.routes.push(
    { name: "broken", match: { path: { prefix: "/broken" } }, action: { destinations: [{ service: "echo", subset: "down" }], rewrite: { prefix: "/" } } },
    { name: "empty", match: { path: { prefix: "/v3" } }, action: { destinations: [{ service: "echo", subset: "v3" }], rewrite: { prefix: "/" } } },
  );
  // Outlier detection and a breaker on echo: the resilience panels read their gauges and counters (web's outbound and
  // the gateway call echo). The breaker's limits are far above this traffic.
  (config.services.echo as { policy?: unknown }).policy = { outlierDetection: { consecutiveGatewayErrors: 3 }, circuitBreaker: { maxRequests: 4096 } };
  config.authorization = { web: { rules: [{ name: "no-admin", action: "deny", from: ["*"], paths: [{ prefix: "/admin" }] }] } };
  const path = join(dir, "mesh.yaml");
  writeFileSync(path, stringify(config));
  return path;
}

async function consulPut(path: string, body: string): Promise<void> {
  const res = await fetch(`${consul}${path}`, { method: "PUT", body });
  if (!res.ok) throw new Error(`consul PUT ${path}: ${res.status} ${await res.text()}`);
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

/** A plaintext connection to an mTLS port: the inbound refuses it at the handshake (a TLS refusal). */
function plaintextProbe(port: number): Promise<void> {
  return new Promise((done) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.1\r\nhost: web\r\n\r\n"));
    s.on("data", () => {});
    s.on("error", () => done());
    s.on("close", () => done());
    s.setTimeout(2000, () => s.destroy());
  });
}

async function traffic(gateway: string, webInbound: number): Promise<void> {
  // Mostly successes, then one of each failure: no route (404), denied by web's policy (403), a subset whose only
  // endpoint is dead (502 after a connect failure), a subset without endpoints (503). /echo and /web also retry.
  const paths = ["/echo", "/web", "/echo", "/web", "/echo", "/web", "/nowhere", "/web/admin", "/broken", "/v3"];
  const end = Date.now() + TRAFFIC_MS;
  const worker = async (offset: number) => {
    for (let i = offset; Date.now() < end; i++) {
      const path = paths[i % paths.length]!;
      const res = await fetch(`${gateway}${path}`).catch(() => undefined);
      await res?.arrayBuffer();
      const byStatus = (statuses[path] ??= {});
      byStatus[res?.status ?? 0] = (byStatus[res?.status ?? 0] ?? 0) + 1;
      await Bun.sleep(5);
    }
  };
  const probes = (async () => {
    while (Date.now() < end) {
      await plaintextProbe(webInbound);
      refused++;
      await Bun.sleep(1000);
    }
  })();
  await Promise.all([worker(0), worker(3), worker(7), probes]);
}

beforeAll(async () => {
  try {
    const configPath = await writeConfig(dir);
    const parsed = await parseMeshConfig(readFileSync(configPath, "utf8"), configPath);
    if (!parsed.ok) throw new Error(`test config invalid: ${JSON.stringify(parsed.issues)}`);
    const plan = demoPlan(parsed.config);
    const demo = await group.spawn("demo", [BUN, join(ROOT, "deploy/demo.ts"), "--consul", "--config", configPath, "--log-dir", join(dir, "logs")], { readyTimeoutMs: 60_000 });
    consul = String(demo.ready.consul);
    const gateway = String(demo.ready.gateway);

    // A dead echo instance (nothing listens on its port) in subsets v1 and down: tries to it fail to connect.
    const deadPort = await freePort();
    await consulPut("/v1/agent/service/register", JSON.stringify({ Name: "echo", ID: "echo-dead", Address: "127.0.0.1", Port: deadPort, Tags: ["v1", "down"], Meta: { version: "v1" } }));

    // Prometheus with the shipped file-mode scrape config and rules: every member's admin port, 1 s scrapes and evaluations.
    const shipped = parse(readFileSync(join(PROM_DIR, "prometheus.file.yml"), "utf8")) as { scrape_configs: Array<Record<string, unknown>> };
    const job = shipped.scrape_configs.find((j) => j.job_name === "mesh")!;
    delete job.file_sd_configs;
    const targets = [...plan.instances.map((i) => `127.0.0.1:${i.adminPort}`), `127.0.0.1:${plan.gatewayAdminPort}`];
    job.static_configs = [{ targets }];
    prom = await startPrometheus({
      config: stringify({
        global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
        rule_files: ["recording.yml", "alerts.yml"].map((f) => join(PROM_DIR, "rules", f)),
        scrape_configs: [job],
      }),
    });
    await until("every member scraped", async () => {
      const up = await prom!.query('up{job="mesh"} == 1');
      return up.length === targets.length ? true : undefined;
    }, 20_000);

    // A config document every member rejects (and keeps its last good config), then removed again.
    await consulPut("/v1/kv/mesh/routes/zz-broken", "name: [unclosed");
    await until("the broken document rejected", async () => {
      const r = await prom!.query("mesh_config_rejected_documents > 0");
      return r.length > 0 ? true : undefined;
    });
    const del = await fetch(`${consul}/v1/kv/mesh/routes/zz-broken`, { method: "DELETE" });
    expect(del.ok).toBe(true);

    await traffic(gateway, plan.instances.find((i) => i.service === "web")!.inboundPort);
    await Bun.sleep(2500); // the last scrapes and one more round of rule evaluation
  } catch (err) {
    await prom?.stop();
    await group.stopAll(10_000);
    throw err;
  }
}, 90_000);

afterAll(async () => {
  await prom?.stop();
  await group.stopAll(10_000);
  rmSync(dir, { recursive: true, force: true });
});

test("the traffic made what the queries should see: successes, 404, 403, 502, 503 and TLS refusals", () => {
  const seen = (path: string, status: number) => (statuses[path]?.[status] ?? 0) > 0;
  expect({ statuses, ok: seen("/echo", 200) && seen("/web", 200) && seen("/nowhere", 404) && seen("/web/admin", 403) && seen("/broken", 502) && seen("/v3", 503) }).toMatchObject({ ok: true });
  expect(statuses["/echo"]?.[502] ?? 0).toBe(0); // the gateway's retries hide the dead echo instance
  expect(refused).toBeGreaterThan(3);
});

function substitute(expr: string): string {
  const out = expr
    .replaceAll("$__rate_interval", "1m")
    .replaceAll("${job}", "mesh")
    .replaceAll("$job", "mesh")
    .replaceAll("${service}", SERVICE)
    .replaceAll("$service", SERVICE);
  if (out.includes("$")) throw new Error(`unknown template variable in ${expr}`);
  return out;
}

type Check = { key: string; expr: string };

async function emptyOnes(checks: Check[]): Promise<string[]> {
  const empty: string[] = [];
  for (const c of checks) {
    const result = await prom!.query(c.expr); // throws on a query Prometheus refuses
    if (result.length === 0 && MAY_BE_EMPTY[c.key] === undefined) empty.push(`${c.key}: ${c.expr}`);
  }
  return empty;
}

test("every dashboard panel's query returns data", async () => {
  type Panel = { type: string; title: string; targets?: Array<{ expr?: string }>; panels?: Panel[] };
  const checks: Check[] = [];
  for (const f of readdirSync(GRAFANA_DIR).filter((n) => n.endsWith(".json"))) {
    const d = JSON.parse(readFileSync(join(GRAFANA_DIR, f), "utf8")) as { panels: Panel[] };
    for (const p of d.panels.flatMap((x) => [x, ...(x.panels ?? [])])) {
      for (const t of p.targets ?? []) if ((t.expr ?? "") !== "") checks.push({ key: `${f}: ${p.title}`, expr: substitute(t.expr!) });
    }
  }
  expect(checks.length).toBeGreaterThan(40);
  expect(await emptyOnes(checks)).toEqual([]);
}, 30_000);

test("every recording rule's expression and recorded series return data", async () => {
  const checks = rules.filter((r) => r.record !== undefined).flatMap((r) => [
    { key: `record: ${r.record}`, expr: r.expr },
    { key: `record: ${r.record}`, expr: r.record! },
  ]);
  expect(await emptyOnes(checks)).toEqual([]);
});

const NOT_METRICS = new Set(["and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"]);

/** The series an expression reads: names not followed by "(" once label matchers, ranges, strings and label lists are gone. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  const names = [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)].filter((m) => m[2] === undefined).map((m) => m[1]!);
  return [...new Set(names.filter((n) => !NOT_METRICS.has(n.toLowerCase())))];
}

test("every alert expression evaluates as expected in this run, and every series it reads has data", async () => {
  const checks: Check[] = [];
  const alerts = rules.filter((r) => r.alert !== undefined);
  expect(alerts.map((a) => a.alert).sort()).toEqual(Object.keys(ALERT_EXPR_IN_THIS_RUN).sort());
  for (const a of alerts) {
    const result = await prom!.query(a.expr);
    expect({ alert: a.alert, result: result.length > 0 ? "data" : "empty" }).toEqual({ alert: a.alert, result: ALERT_EXPR_IN_THIS_RUN[a.alert!]! });
    const names = metricNames(a.expr);
    expect({ alert: a.alert, reads: names.length > 0 }).toEqual({ alert: a.alert, reads: true });
    for (const n of names) checks.push({ key: `alert: ${a.alert}: ${n}`, expr: n === "up" ? 'up{job="mesh"}' : n });
  }
  expect(await emptyOnes(checks)).toEqual([]);
});

test("Prometheus evaluates every rule without error; the gateway's 5xx alert is pending and nothing fires in this short run", async () => {
  type Groups = { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
  const loaded = await prom!.api<Groups>("rules");
  const all = loaded.groups.flatMap((g) => g.rules);
  expect(all.length).toBe(rules.length);
  expect(all.filter((r) => r.health !== "ok").map((r) => `${r.name}: ${r.health} ${r.lastError ?? ""}`)).toEqual([]);
  const pending = await prom!.query('ALERTS{alertstate="pending"}');
  expect(pending.map((a) => `${a.metric.alertname} ${a.metric.mesh_service}/${a.metric.side}`)).toEqual(["MeshHigh5xxRatio gateway/gateway"]);
  expect(await prom!.query('ALERTS{alertstate="firing"}')).toEqual([]);
});

test("the series carry the traffic with the contract's labels", async () => {
  // Each: a selector the traffic must have fed with a value above 0 (sums over instances and the rest of the labels).
  const fed: Record<string, string> = {
    "gateway 2xx on route echo, split to both subsets": 'mesh_requests_total{side="gateway", route="echo", destination_service="echo", destination_subset="v2", response_code_class="2xx", cause=""}',
    "gateway 404 without a route": 'mesh_requests_total{side="gateway", route="", response_code_class="4xx", cause="no-route"}',
    "gateway 502 from the dead-only subset": 'mesh_requests_total{side="gateway", route="broken", destination_subset="down", response_code_class="5xx"}',
    // No endpoint means no try (no upstream series), but the request still names the destination it had no endpoint for.
    "gateway 503 from the empty subset": 'mesh_requests_total{side="gateway", route="empty", destination_service="echo", destination_subset="v3", response_code_class="5xx", cause="no-healthy-endpoint"}',
    "web inbound from the gateway, by verified caller": 'mesh_requests_total{mesh_service="web", side="inbound", destination_service="web", source_service="gateway", response_code_class="2xx"}',
    "web inbound 403 by its policy": 'mesh_requests_total{mesh_service="web", side="inbound", response_code_class="4xx", cause="forbidden"}',
    "echo inbound from web": 'mesh_requests_total{mesh_service="echo", side="inbound", source_service="web"}',
    "web outbound to echo on the mesh route": 'mesh_requests_total{mesh_service="web", side="outbound", route="echo-split", destination_service="echo"}',
    "authorization deny by rule no-admin": 'mesh_authz_decisions_total{mesh_service="web", decision="deny", rule="no-admin"}',
    "authorization allow by default": 'mesh_authz_decisions_total{mesh_service="web", decision="allow", rule="default"}',
    "connect failures to the dead instance": 'mesh_upstream_requests_total{destination_service="echo", outcome="connect-failure"}',
    "successful tries": 'mesh_upstream_requests_total{mesh_service="web", side="outbound", destination_service="echo", outcome="success"}',
    "web's retries to echo": 'mesh_upstream_retries_total{mesh_service="web", side="outbound", destination_service="echo"}',
    "the gateway's retries to echo": 'mesh_upstream_retries_total{mesh_service="gateway", side="gateway", destination_service="echo"}',
    "plaintext connections refused at web's inbound": 'mesh_tls_refusals_total{mesh_service="web", listener="inbound", reason="handshake"}',
    "mTLS handshakes at web's inbound": 'mesh_tls_handshakes_total{mesh_service="web", listener="inbound"}',
    "the rejected KV document": "mesh_config_rejections_total",
    "echo endpoints seen by web (2 live + the dead one)": 'mesh_discovery_healthy_endpoints{mesh_service="web", destination_service="echo"} >= 3',
    "the Consul index of web's echo watch": 'mesh_discovery_last_index{mesh_service="web", destination_service="echo"}',
    "duration observations": 'mesh_request_duration_seconds_count{mesh_service="echo", side="inbound"}',
    "upstream try durations": 'mesh_upstream_request_duration_seconds_count{mesh_service="web", destination_service="echo"}',
  };
  const missing: string[] = [];
  for (const [what, selector] of Object.entries(fed)) {
    const r = await prom!.query(`sum(${selector}) > 0`);
    if (r.length === 0) missing.push(`${what}: ${selector}`);
  }
  expect(missing).toEqual([]);
});
