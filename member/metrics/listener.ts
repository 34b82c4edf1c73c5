// The optional metrics listener (--metrics-address HOST:PORT): /metrics only, for a scraper on another host,
// while the admin listener stays on loopback. Also the one /metrics response both listeners give.
import type { ServeWeb, WebServer } from "../../runtime/ports.ts";

export type Render = () => Promise<{ contentType: string; body: string }>;

export async function metricsResponse(render: Render): Promise<Response> {
  const { contentType, body } = await render();
  return new Response(body, { headers: { "content-type": contentType } });
}

export function startMetricsListener(o: { serveWeb: ServeWeb; hostname: string; port: number; render: Render }): WebServer {
  return o.serveWeb({
    hostname: o.hostname,
    port: o.port,
    fetch(req) {
      if (req.method !== "GET") return new Response("method not allowed\n", { status: 405 });
      if (new URL(req.url).pathname !== "/metrics") return new Response("not found: this listener serves /metrics only\n", { status: 404 });
      return metricsResponse(o.render);
    },
  });
}
