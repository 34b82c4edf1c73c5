// The demo's `echo` app: answers every request with who it is and who called it (the verified caller
// identity its inbound sidecar put in x-mesh-client-id). Plain HTTP on 127.0.0.1: the sidecar does the TLS.
const port = Number(process.env.PORT ?? 9201);
const version = process.env.VERSION ?? "v1";
const instance = process.env.INSTANCE ?? `echo-${version}`;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/health") return new Response("ok\n");
    const body = {
      service: "echo",
      version,
      instance,
      caller: req.headers.get("x-mesh-client-id"),
      method: req.method,
      path: url.pathname + url.search,
      requestId: req.headers.get("x-request-id"),
    };
    return Response.json(body);
  },
});
console.log(JSON.stringify({ msg: "ready", app: instance, port: server.port }));
process.on("SIGTERM", () => process.exit(0));

export {};
