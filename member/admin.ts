// The admin listener (loopback only): readiness for health checks and what config and endpoints are live.
// Shared by sidecar and gateway; refuses to bind anything but a loopback address.
import type { LiveSnapshot } from "../shared/build/live.ts";
import type { ServeWeb } from "../runtime/ports.ts";
import { metricsResponse, type Render } from "./metrics/listener.ts";

export type AdminOptions = {
  serveWeb: ServeWeb;
  port: number;
  live: LiveSnapshot;
  ready: () => boolean;
  info: () => Record<string, unknown>;
  /** Discovery state per service (Consul mode), or undefined with the file's static endpoints. */
  discovery?: () => Record<string, unknown> | undefined;
  /** Prometheus text for /metrics; undefined with --metrics off (then /metrics is a 404). */
  metrics?: Render;
  /** More paths an assembly serves here (the gateway's console); undefined = not one of them. */
  routes?: { paths: readonly string[]; handle: (req: Request, path: string) => Promise<Response> | undefined };
};

export type AdminServer = { port: number; stop(): void };

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body, null, 2), { status, headers: { "content-type": "application/json" } });
}

export function startAdmin(opts: AdminOptions): AdminServer {
  const paths = ["/ready", "/live", "/config", "/clusters", "/info", "/discovery", ...(opts.metrics === undefined ? [] : ["/metrics"]), ...(opts.routes?.paths ?? [])];
  const metrics = opts.metrics;
  const server = opts.serveWeb({
    hostname: "127.0.0.1",
    port: opts.port,
    fetch(req: Request) {
      const path = new URL(req.url).pathname;
      if (req.method !== "GET") return json({ error: "method not allowed" }, 405);
      const extra = opts.routes?.handle(req, path);
      if (extra !== undefined) return extra;
      switch (path) {
        case "/ready": {
          // Shown in Consul's check output for operators; `meshctl status` reads mesh-status/ in KV instead.
          const s = opts.live.status();
          // A held member still serves (its last good config), so it stays ready; the line says why it is held.
          const held = s.held === undefined ? "" : ` held=${s.held.reason}`;
          const line = `config=${s.version} source=${s.source.replaceAll(" ", "_")} rejected=${s.rejected.length + s.rejectedDocuments.length}${held}`;
          return opts.ready() ? new Response(`ready ${line}\n`) : new Response(`not ready ${line}\n`, { status: 503 });
        }
        case "/live":
          return new Response("live\n");
        case "/config":
          return json(opts.live.status());
        case "/clusters": {
          const snap = opts.live.current();
          // Resilience state next to the endpoints: which are ejected, breaker load and overflows, budget refusals.
          const clusters = [...snap.clusters.values()].map((c) => {
            const s = c.stats();
            return {
              name: c.name, spiffeId: c.spiffeId, endpoints: c.endpoints(), ejected: [...c.ejected()],
              ...(s.breaker === undefined ? {} : { circuitBreaker: s.breaker }),
              ...(s.outlier === undefined ? {} : { outlierDetection: s.outlier }),
              ...(s.retryBudgetExhausted === 0 ? {} : { retryBudgetExhausted: s.retryBudgetExhausted }),
              ...(s.mirrored + s.mirrorSkipped === 0 ? {} : { mirrored: s.mirrored, mirrorSkipped: s.mirrorSkipped }),
            };
          });
          return json({ version: snap.version, clusters });
        }
        case "/info":
          return json(opts.info());
        case "/discovery":
          return json(opts.discovery?.() ?? { source: "file" });
        case "/metrics":
          if (metrics !== undefined) return metricsResponse(metrics);
          return json({ error: "metrics are off (--metrics off)", paths }, 404);
        default:
          return json({ error: "not found", paths }, 404);
      }
    },
  });
  return server;
}
