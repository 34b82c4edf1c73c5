// The `nginx` peer scenario: nginx as a keep-alive reverse proxy to the bench upstream, one process, pinned like ours.
// The config is rendered here (pure, unit-tested); the binary comes from deploy/bench/provision-nginx.sh.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "./ports.ts";
import { provisionBinary } from "./provision.ts";
import type { ScenarioEnv, Target } from "./scenarios.ts";
import { UPSTREAM_SERVICE } from "./mesh-config.ts";
import { waitForOk } from "./wait-http.ts";

export type NginxConf = {
  /** The -p prefix: pid file, temp dirs and the access log live here, never under /var or /etc. */
  readonly dir: string;
  readonly port: number;
  readonly upstreamPort: number;
  /** As our proxies: on by default (nginx's own default, combined format, one write per request), off with --access-log off. */
  readonly accessLog: boolean;
};

export function renderNginxConf(c: NginxConf): string {
  const d = c.dir;
  return `# Written by bench/lib/nginx.ts for one bench run.
# One process does the work (no master, no daemon), so the PID the runner started is the one whose CPU is counted.
daemon off;
master_process off;
worker_processes 1;
pid ${d}/nginx.pid;
error_log stderr warn;

events {
  worker_connections 1024;
}

http {
  access_log ${c.accessLog ? `${d}/access.log` : "off"};
  # Debian's binary has /var/lib/nginx/* compiled in; keep every path inside the run's temp dir.
  client_body_temp_path ${d}/body;
  proxy_temp_path ${d}/proxy;
  fastcgi_temp_path ${d}/fastcgi;
  uwsgi_temp_path ${d}/uwsgi;
  scgi_temp_path ${d}/scgi;
  # wrk keeps its connections for the whole run; the default (1000 requests) would make nginx, and no other proxy
  # here, close and reopen connections during the measurement.
  keepalive_requests 1000000;

  upstream bench_upstream {
    server 127.0.0.1:${c.upstreamPort};
    keepalive 64;
    keepalive_requests 1000000;
  }

  server {
    listen 127.0.0.1:${c.port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

export async function startNginx(env: ScenarioEnv): Promise<Target> {
  const bin = await provisionBinary(env.repo, "nginx");
  const [port] = (await freePorts(1)) as [number];
  const dir = join(env.tmp, "nginx");
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, "nginx.conf");
  writeFileSync(conf, renderNginxConf({ dir, port, upstreamPort: env.upstreamPort, accessLog: env.accessLog }));
  const m = env.set.spawn("nginx", [...env.pinProxy, bin, "-p", dir, "-c", conf, "-e", "stderr"]);
  const url = `http://127.0.0.1:${port}/`;
  await waitForOk(env.set, { url, host: UPSTREAM_SERVICE, procs: [m], timeoutMs: 10_000, what: "nginx: first request" });
  return { url, host: UPSTREAM_SERVICE, proxies: new Map([["nginx", m]]) };
}
