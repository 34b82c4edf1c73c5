// The per-service dashboard ($service): inbound vs outbound traffic, routes, destinations and subsets, upstream tries
// by outcome, retries, healthy endpoints, callers, authorization decisions and TLS refusals.
import { dashboard, datasourceVariable, jobVariable, sel, serviceVariable } from "./grafana.ts";

const RATE = "$__rate_interval";
const SVC = 'mesh_service="$service"';
const s = (extra = ""): string => sel(extra === "" ? SVC : `${SVC}, ${extra}`);

export const service = dashboard({
  uid: "vm-mesh-service",
  title: "vm-mesh / Service",
  description: "One service ($service) in detail: inbound (what it served) vs outbound (what its app sent into the mesh), routes, destinations and subsets, upstream tries, retries, endpoints, callers, authorization and TLS refusals.",
  variables: [datasourceVariable, jobVariable, serviceVariable],
  rows: [
    {
      title: "Inbound vs outbound",
      panels: [
        { w: 8, title: "Requests/s by side", unit: "reqps", description: "inbound = requests this service served (mesh → app); outbound = requests its app sent (app → mesh); gateway = the gateway's listeners.", targets: [{ expr: `sum by (side) (rate(mesh_requests_total${s()}[${RATE}]))`, legend: "{{side}}" }] },
        { w: 8, title: "5xx ratio by side", unit: "percentunit", min: 0, thresholds: [[0.05, "red"]], description: "Share of 5xx responses per side.", targets: [{ expr: `(sum by (side) (rate(mesh_requests_total${s('response_code_class="5xx"')}[${RATE}])) or 0 * sum by (side) (rate(mesh_requests_total${s()}[${RATE}]))) / sum by (side) (rate(mesh_requests_total${s()}[${RATE}]))`, legend: "{{side}}" }] },
        { w: 8, title: "p50 / p99 latency by side", unit: "s", description: "Request duration quantiles per side: a slow app shows on inbound, a slow upstream on outbound.", targets: [
          { expr: `histogram_quantile(0.5, sum by (side, le) (rate(mesh_request_duration_seconds_bucket${s()}[${RATE}])))`, legend: "p50 {{side}}" },
          { expr: `histogram_quantile(0.99, sum by (side, le) (rate(mesh_request_duration_seconds_bucket${s()}[${RATE}])))`, legend: "p99 {{side}}" },
        ] },
        { w: 8, title: "In flight by side", unit: "short", description: "Requests being handled right now, per side.", targets: [{ expr: `sum by (side) (mesh_requests_in_flight${s()})`, legend: "{{side}}" }] },
        { w: 16, title: "Mesh-made errors/s by side, route and cause", unit: "reqps", description: "Responses the mesh made itself (no-route, forbidden, timeout, no-healthy-endpoint, ...). Empty is good.", targets: [{ expr: `sum by (side, route, cause) (rate(mesh_requests_total${s('cause!=""')}[${RATE}]))`, legend: "{{side}} {{route}} {{cause}}" }] },
      ],
    },
    {
      title: "Routes",
      panels: [
        { title: "Requests/s by route and class", unit: "reqps", description: "Per route (\"\" = no route matched) and status class.", targets: [{ expr: `sum by (side, route, response_code_class) (rate(mesh_requests_total${s()}[${RATE}]))`, legend: "{{side}} {{route}} {{response_code_class}}" }] },
        { title: "p99 latency by route", unit: "s", description: "99th percentile of request duration per route.", targets: [{ expr: `histogram_quantile(0.99, sum by (side, route, le) (rate(mesh_request_duration_seconds_bucket${s()}[${RATE}])))`, legend: "{{side}} {{route}}" }] },
      ],
    },
    {
      title: "Destinations, subsets and upstream tries",
      panels: [
        { w: 8, title: "Requests/s by destination and subset", unit: "reqps", stacked: true, description: "Where this service's requests went (outbound sidecar or gateway): the split's chosen service and subset.", targets: [{ expr: `sum by (destination_service, destination_subset) (rate(mesh_requests_total${s('side!="inbound"')}[${RATE}]))`, legend: "{{destination_service}} {{destination_subset}}" }] },
        { w: 8, title: "Upstream tries/s by outcome", unit: "reqps", stacked: true, description: "Each try to an upstream endpoint (retries included): success, http-5xx, connect-failure, reset, timeout, identity-mismatch, no-healthy-endpoint.", targets: [{ expr: `sum by (destination_service, outcome) (rate(mesh_upstream_requests_total${s()}[${RATE}]))`, legend: "{{destination_service}} {{outcome}}" }] },
        { w: 8, title: "Upstream try p99 by subset", unit: "s", description: "99th percentile of a single upstream try, per destination and subset.", targets: [{ expr: `histogram_quantile(0.99, sum by (destination_service, destination_subset, le) (rate(mesh_upstream_request_duration_seconds_bucket${s()}[${RATE}])))`, legend: "{{destination_service}} {{destination_subset}}" }] },
        { w: 8, title: "Retries/s by destination", unit: "reqps", description: "Tries after the first, per destination: retries hide failing endpoints from callers, so watch them.", targets: [{ expr: `sum by (destination_service) (rate(mesh_upstream_retries_total${s()}[${RATE}]))`, legend: "{{destination_service}}" }] },
        { w: 8, title: "Retry share of upstream tries", unit: "percentunit", min: 0, description: "Retries per upstream try (0 = no retries).", targets: [{ expr: `sum by (destination_service) (rate(mesh_upstream_retries_total${s()}[${RATE}])) / sum by (destination_service) (rate(mesh_upstream_requests_total${s()}[${RATE}]))`, legend: "{{destination_service}}" }] },
        { w: 8, title: "Healthy endpoints per destination", unit: "short", min: 0, description: "Endpoints this service's members may pick, per destination service (per member).", targets: [{ expr: `max by (destination_service, instance) (mesh_discovery_healthy_endpoints${s()})`, legend: "{{destination_service}} ({{instance}})" }] },
      ],
    },
    {
      title: "Resilience (destinations with outlier detection or a circuit breaker)",
      panels: [
        { w: 8, title: "Ejected endpoints per destination", unit: "short", min: 0, description: "Endpoints outlier detection keeps out of this service's balancing right now (per member); panic = too few healthy, ejections ignored.", targets: [
          { expr: `max by (destination_service, destination_subset) (mesh_outlier_ejected_endpoints${s()})`, legend: "{{destination_service}} {{destination_subset}}" },
          { expr: `max by (destination_service, destination_subset) (mesh_outlier_panic${s()})`, legend: "panic {{destination_service}} {{destination_subset}}" },
        ] },
        { w: 8, title: "Ejections/s by destination", unit: "short", description: "Endpoints ejected by outlier detection (consecutive 5xx or gateway errors).", targets: [{ expr: `sum by (destination_service, destination_subset) (rate(mesh_outlier_ejections_total${s()}[${RATE}]))`, legend: "{{destination_service}} {{destination_subset}}" }] },
        { w: 8, title: "Circuit breaker: in flight, pending, overflows/s", unit: "short", description: "Attempts the destination's breaker counts, those waiting for a connection slot, and refusals (503 overflow) or retries not made, by threshold.", targets: [
          { expr: `sum by (destination_service) (mesh_circuit_breaker_active_requests${s()})`, legend: "active {{destination_service}}" },
          { expr: `sum by (destination_service) (mesh_circuit_breaker_pending_requests${s()})`, legend: "pending {{destination_service}}" },
          { expr: `sum by (destination_service, threshold) (rate(mesh_circuit_breaker_overflows_total${s()}[${RATE}]))`, legend: "overflow {{destination_service}} {{threshold}}" },
        ] },
      ],
    },
    {
      title: "Callers, authorization and TLS",
      panels: [
        { w: 8, title: "Inbound requests/s by caller", unit: "reqps", description: "Who called this service (from the verified SPIFFE id; unauthenticated = plaintext in permissive mode), by status class.", targets: [{ expr: `sum by (source_service, response_code_class) (rate(mesh_requests_total${s('side="inbound"')}[${RATE}]))`, legend: "{{source_service}} {{response_code_class}}" }] },
        { w: 8, title: "Authorization decisions/s", unit: "reqps", stacked: true, description: "Inbound policy decisions by decision and rule (default = the policy's default).", targets: [{ expr: `sum by (decision, rule) (rate(mesh_authz_decisions_total${s()}[${RATE}]))`, legend: "{{decision}} {{rule}}" }] },
        { w: 8, title: "Authorization denies/s by rule", unit: "reqps", description: "Requests refused with 403 by this service's policy, per deciding rule.", targets: [{ expr: `sum by (rule) (rate(mesh_authz_decisions_total${s('decision="deny"')}[${RATE}]))`, legend: "{{rule}}" }] },
        { w: 12, title: "TLS handshakes/s", unit: "short", description: "Completed mTLS handshakes on this service's listeners.", targets: [{ expr: `sum by (listener) (rate(mesh_tls_handshakes_total${s()}[${RATE}]))`, legend: "{{listener}}" }] },
        { w: 12, title: "TLS refusals/s by reason", unit: "short", description: "Connections refused before any request: handshake (no/foreign certificate), svid (breaks the X509-SVID rules), draining, early-data, timeout.", targets: [{ expr: `sum by (listener, reason) (rate(mesh_tls_refusals_total${s()}[${RATE}]))`, legend: "{{listener}} {{reason}}" }] },
      ],
    },
  ],
});
