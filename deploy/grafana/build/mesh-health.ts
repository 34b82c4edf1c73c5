// The mesh health dashboard: members up, versions, RSS and event-loop delay; certificates and trust roots; config
// versions, rejections and holds; discovery endpoints, watch errors and Consul indexes.
import { dashboard, datasourceVariable, jobVariable, sel } from "./grafana.ts";

const RATE = "$__rate_interval";
const MEMBER = "{{mesh_service}} {{instance}}";

export const meshHealth = dashboard({
  uid: "vm-mesh-health",
  title: "vm-mesh / Health",
  description: "Is every member well: up, memory and event loop; certificates and trust roots; which config each member runs and what it rejected; discovery endpoints and Consul watches.",
  variables: [datasourceVariable, jobVariable],
  rows: [
    {
      title: "Members",
      panels: [
        { w: 8, title: "Member up", unit: "short", min: 0, description: "1 = Prometheus scraped the member; 0 = down or unreachable (MeshMemberDown fires after 30 s).", targets: [{ expr: `up${sel()}`, legend: "{{instance}}" }] },
        { w: 16, kind: "table", title: "Members", description: "Every member's service, kind, SPIFFE id and software version.", targets: [{ expr: `mesh_member_info${sel()}` }] },
        { w: 8, title: "Resident memory", unit: "bytes", description: "RSS of each member process.", targets: [{ expr: `process_resident_memory_bytes${sel()}`, legend: MEMBER }] },
        { w: 8, title: "Event loop delay p99", unit: "s", description: "How late timers run in each member: a busy or blocked event loop delays every request it holds.", targets: [{ expr: `mesh_event_loop_delay_seconds${sel('quantile="0.99"')}`, legend: MEMBER }] },
        { w: 8, title: "Uptime", unit: "s", description: "Time since each member process started (a reset = a restart).", targets: [{ expr: `time() - process_start_time_seconds${sel()}`, legend: MEMBER }] },
      ],
    },
    {
      title: "Certificates and TLS",
      panels: [
        { w: 8, title: "Leaf certificate: time left", unit: "s", min: 0, thresholds: [[0, "red"], [21600, "orange"], [43200, "green"]], description: "Seconds until each member's leaf certificate expires; members renew at about half life, so a falling line below half the TTL means renewal fails (MeshCertificateExpiringSoon fires under 6 h).", targets: [{ expr: `mesh_cert_seconds_left${sel()}`, legend: MEMBER }] },
        { w: 8, kind: "stat", title: "Earliest trust root expires in", unit: "s", thresholds: [[0, "red"], [2592000, "green"]], description: "Time until the earliest root in any member's trust bundle expires (MeshTrustRootExpiringSoon fires under 30 days).", targets: [{ expr: `min(mesh_trust_root_expiry_timestamp_seconds${sel()}) - time()`, legend: "earliest root" }] },
        { w: 8, title: "TLS refusals/s by reason", unit: "short", description: "Connections refused per member, listener and reason (handshake, svid, draining, early-data, timeout).", targets: [{ expr: `sum by (mesh_service, listener, reason) (rate(mesh_tls_refusals_total${sel()}[${RATE}]))`, legend: "{{mesh_service}} {{listener}} {{reason}}" }] },
      ],
    },
    {
      title: "Config",
      panels: [
        { w: 8, title: "Members per config version", unit: "short", stacked: true, description: "How many members run each applied config version: after a change, every member should move to the new one within seconds.", targets: [{ expr: `count by (version) (mesh_config_info${sel()})`, legend: "{{version}}" }] },
        { w: 8, title: "Config rejections", unit: "short", description: "Rejected config changes per member in each interval (the last good config keeps serving).", targets: [{ expr: `sum by (mesh_service, instance) (increase(mesh_config_rejections_total${sel()}[${RATE}]))`, legend: MEMBER }] },
        { w: 8, title: "Rejected documents now", unit: "short", min: 0, thresholds: [[1, "red"]], description: "Config documents (or the file) a member currently rejects (MeshConfigRejected fires after a minute).", targets: [{ expr: `mesh_config_rejected_documents${sel()}`, legend: MEMBER }] },
        { w: 8, title: "Config held", unit: "short", min: 0, thresholds: [[1, "orange"]], description: "1 = the member holds its last good config because the KV prefix looked lost (MeshConfigHeld).", targets: [{ expr: `mesh_config_held${sel()}`, legend: MEMBER }] },
        { w: 8, title: "Time since last config apply", unit: "s", description: "Seconds since each member applied a config version.", targets: [{ expr: `time() - mesh_config_last_apply_timestamp_seconds${sel()}`, legend: MEMBER }] },
        { w: 8, kind: "table", title: "Applied config version per member", description: "The config version each member applied.", targets: [{ expr: `mesh_config_info${sel()}` }] },
      ],
    },
    {
      title: "Discovery",
      panels: [
        { w: 8, title: "Healthy endpoints per destination", unit: "short", min: 0, description: "Endpoints each member may pick per destination service (0 = calls fail fast with 503; MeshNoHealthyEndpoints).", targets: [{ expr: `mesh_discovery_healthy_endpoints${sel()}`, legend: "{{mesh_service}} {{instance}} → {{destination_service}}" }] },
        { w: 8, title: "Consul watch errors/s", unit: "short", description: "Failed health watches per member and destination (MeshConsulWatchFailing fires when they go on for 2 minutes).", targets: [{ expr: `sum by (mesh_service, instance, destination_service) (rate(mesh_discovery_watch_errors_total${sel()}[${RATE}]))`, legend: "{{mesh_service}} {{instance}} → {{destination_service}}" }] },
        { w: 8, title: "Last Consul index", unit: "short", description: "The X-Consul-Index of each watch's last answer: a line that stops moving while others move is a stuck watch.", targets: [{ expr: `mesh_discovery_last_index${sel()}`, legend: "{{mesh_service}} {{instance}} → {{destination_service}}" }] },
      ],
    },
  ],
});
