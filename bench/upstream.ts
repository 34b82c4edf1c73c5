// The tiny upstream every bench scenario ends at: a fixed JSON body, as cheap as Bun can serve it.
// Prints one JSON "ready" line with its port so the runner can wire proxies to it.
const port = Number(process.argv[process.argv.indexOf("--port") + 1] ?? 0) || 0;
const body = '{"ok":true}';

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});

console.log(JSON.stringify({ msg: "ready", service: "bench-upstream", port: server.port }));

const stop = (): void => {
  server.stop(true);
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

export {};
