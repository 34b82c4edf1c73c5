// The reference proxy: bare Bun.serve + fetch, forwarding everything to one upstream.
// It is our runtime's ceiling for one plaintext hop; every mesh scenario is compared to it.
import { announceAndStopOnSignal } from "./lib/announce.ts";
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const upstream = arg("--upstream"); // host:port
if (!upstream) {
  console.error("usage: bun bench/bun-bare.ts --port P --upstream HOST:PORT");
  process.exit(2);
}
const origin = `http://${upstream}`;

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(arg("--port") ?? 0),
  fetch(req) {
    const url = new URL(req.url);
    return fetch(origin + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      redirect: "manual",
    });
  },
});

announceAndStopOnSignal(server, "bun-bare");

export {};
