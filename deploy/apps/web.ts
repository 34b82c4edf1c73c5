// The demo's `web` app: calls `echo` through its own outbound sidecar (Host: echo) and returns both answers,
// showing that echo saw web's SPIFFE id, not the gateway's. It passes the trace context on, as any app in a mesh must.
const port = Number(process.env.PORT ?? 9211);
const outbound = Number(process.env.OUTBOUND_PORT ?? 9311);
const instance = process.env.INSTANCE ?? "web-1";

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok\n");
    const requestId = req.headers.get("x-request-id") ?? crypto.randomUUID();
    const headers: Record<string, string> = { host: "echo", "x-request-id": requestId };
    // The sidecar names its inbound span in traceparent; copying it makes the call to echo a child of that span, so
    // gateway → web → echo is one trace. The mesh cannot do this itself: only the app knows which call serves which request.
    for (const name of ["traceparent", "tracestate"]) {
      const value = req.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const res = await fetch(`http://127.0.0.1:${outbound}/hello`, { headers });
    const text = await res.text();
    let echo: unknown = text;
    try {
      echo = JSON.parse(text);
    } catch {
      // keep the raw text: an error page from the mesh is worth showing as is
    }
    return Response.json({ service: "web", instance, caller: req.headers.get("x-mesh-client-id"), echoStatus: res.status, echo });
  },
});
console.log(JSON.stringify({ msg: "ready", app: instance, port: server.port }));
process.on("SIGTERM", () => process.exit(0));

export {};
