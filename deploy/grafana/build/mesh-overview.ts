// The mesh overview dashboard: traffic at the edge, and requests/s, 5xx ratio, p50/p99 per service (what each
// service served: its inbound sidecar, or the gateway), responses by class, mesh-made errors, calls between services.
import { dashboard, datasourceVariable, jobVariable, sel } from "./grafana.ts";

const RATE = "$__rate_interval";
const SERVED = 'side=~"inbound|gateway"';
const serviceLink = [{ title: "Service dashboard for ${__field.labels.mesh_service}", url: "/d/vm-mesh-service/vm-mesh-service?${datasource:queryparam}&${job:queryparam}&var-service=${__field.labels.mesh_service}&${__url_time_range}" }];

/** 5xx share per `by` labels; 0 (not absent) where there was traffic but no 5xx. */
function ratio5xx(by: string, scope: string): string {
  const all = `sum by (${by}) (rate(mesh_requests_total${sel(scope)}[${RATE}]))`;
  const bad = `sum by (${by}) (rate(mesh_requests_total${sel(`${scope}, response_code_class="5xx"`)}[${RATE}]))`;
  return `(${bad} or 0 * ${all}) / ${all}`;
}

export const meshOverview = dashboard({
  uid: "vm-mesh-overview",
  title: "vm-mesh / Overview",
  description: "The whole mesh at a glance: edge traffic, and per service the requests/s, 5xx ratio and p50/p99 latency it served (inbound sidecar or gateway). Metric names: docs/observability.md.",
  variables: [datasourceVariable, jobVariable],
  rows: [
    {
      title: "Edge",
      panels: [
        { kind: "stat", w: 6, h: 4, title: "Requests/s at the gateway", unit: "reqps", description: "Every request the gateway's listeners received.", targets: [{ expr: `sum(rate(mesh_requests_total${sel('side="gateway"')}[${RATE}]))`, legend: "requests/s" }] },
        { kind: "stat", w: 6, h: 4, title: "5xx ratio at the gateway", unit: "percentunit", thresholds: [[0.01, "orange"], [0.05, "red"]], description: "Share of the gateway's responses that were 5xx (the MeshHigh5xxRatio alert fires above 5% for 5 minutes).", targets: [{ expr: ratio5xx("mesh_kind", 'side="gateway"'), legend: "5xx ratio" }] },
        { kind: "stat", w: 6, h: 4, title: "Members up", unit: "short", description: "Members Prometheus scraped successfully, out of all mesh targets.", targets: [{ expr: `sum(up${sel()})`, legend: "up" }, { expr: `count(up${sel()})`, legend: "targets" }] },
        { kind: "stat", w: 6, h: 4, title: "Mesh-made errors/s", unit: "reqps", thresholds: [[0.1, "orange"]], description: "Responses the mesh made itself (no route, forbidden, timeout, no healthy endpoint, ...) on every side.", targets: [{ expr: `sum(rate(mesh_requests_total${sel('cause!=""')}[${RATE}]))`, legend: "errors/s" }] },
      ],
    },
    {
      title: "Per service (what each service served)",
      panels: [
        { title: "Requests/s per service", unit: "reqps", links: serviceLink, description: "Requests each service served: the inbound sidecars' count, the gateway's for the gateway. Click a series for its service dashboard.", targets: [{ expr: `sum by (mesh_service) (rate(mesh_requests_total${sel(SERVED)}[${RATE}]))`, legend: "{{mesh_service}}" }] },
        { title: "5xx ratio per service", unit: "percentunit", min: 0, thresholds: [[0.05, "red"]], links: serviceLink, description: "Share of each service's responses that were 5xx.", targets: [{ expr: ratio5xx("mesh_service", SERVED), legend: "{{mesh_service}}" }] },
        { title: "p50 latency per service", unit: "s", links: serviceLink, description: "Median time from a request's arrival to its response head, per service (inbound sidecar or gateway).", targets: [{ expr: `histogram_quantile(0.5, sum by (mesh_service, le) (rate(mesh_request_duration_seconds_bucket${sel(SERVED)}[${RATE}])))`, legend: "{{mesh_service}}" }] },
        { title: "p99 latency per service", unit: "s", thresholds: [[1, "red"]], links: serviceLink, description: "99th percentile of request duration per service (the MeshHighP99Latency alert fires above 1 s for 10 minutes).", targets: [{ expr: `histogram_quantile(0.99, sum by (mesh_service, le) (rate(mesh_request_duration_seconds_bucket${sel(SERVED)}[${RATE}])))`, legend: "{{mesh_service}}" }] },
        { title: "Responses/s by class", unit: "reqps", stacked: true, description: "Each service's responses by status class.", targets: [{ expr: `sum by (mesh_service, response_code_class) (rate(mesh_requests_total${sel(SERVED)}[${RATE}]))`, legend: "{{mesh_service}} {{response_code_class}}" }] },
        { title: "Mesh-made errors/s by cause", unit: "reqps", description: "Responses the mesh made itself, by member, side and cause (no-route, forbidden, timeout, no-healthy-endpoint, connect failures...). Empty is good.", targets: [{ expr: `sum by (mesh_service, side, cause) (rate(mesh_requests_total${sel('cause!=""')}[${RATE}]))`, legend: "{{mesh_service}} {{side}} {{cause}}" }] },
        { w: 24, title: "Calls between services (requests/s)", unit: "reqps", description: "Inbound requests per caller → callee, from the caller's verified SPIFFE id.", targets: [{ expr: `sum by (source_service, mesh_service) (rate(mesh_requests_total${sel('side="inbound"')}[${RATE}]))`, legend: "{{source_service}} → {{mesh_service}}" }] },
      ],
    },
  ],
});
