// Tests the nginx peer's config: one process doing the work, keep-alive to the upstream, every path in the temp dir.
// If nginx is on the machine (or cached by deploy/bench/provision-nginx.sh), the rendered config must also pass `nginx -t`.
import { expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderNginxConf } from "./nginx.ts";
import { REPO } from "./harness.ts";

const conf = (accessLog: boolean) => renderNginxConf({ dir: "/tmp/bench-x/nginx", port: 41000, upstreamPort: 41001, accessLog });

test("one process in the foreground: the PID the runner pins and measures is the one proxying", () => {
  const c = conf(true);
  expect(c).toMatch(/^daemon off;$/m);
  expect(c).toMatch(/^master_process off;$/m);
  expect(c).toMatch(/^worker_processes 1;$/m);
});

test("proxies to the upstream over pooled HTTP/1.1 keep-alive connections", () => {
  const c = conf(true);
  expect(c).toContain("upstream bench_upstream {\n    server 127.0.0.1:41001;\n    keepalive 64;");
  expect(c).toContain("listen 127.0.0.1:41000;");
  expect(c).toContain("proxy_pass http://bench_upstream;");
  expect(c).toContain("proxy_http_version 1.1;");
  expect(c).toContain('proxy_set_header Connection "";');
});

test("every file nginx writes lives under the run's dir; the access log follows --access-log", () => {
  const c = conf(true);
  for (const m of c.matchAll(/^\s*(pid|\w+_temp_path|access_log) (\S+);$/gm)) expect(m[2]!.startsWith("/tmp/bench-x/nginx/")).toBe(true);
  expect(c).toContain("access_log /tmp/bench-x/nginx/access.log;");
  expect(conf(false)).toContain("access_log off;");
  const directives = c.split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
  expect(directives).not.toMatch(/\/var\/|\/etc\//);
});

const cached = [Bun.which("nginx"), "/usr/sbin/nginx", join(REPO, ".cache/nginx/usr/sbin/nginx")].find((p) => p !== null && existsSync(p));

test.skipIf(cached === undefined)("the rendered config passes nginx -t with the runner's flags", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-nginx-test-"));
  try {
    const file = join(dir, "nginx.conf");
    writeFileSync(file, renderNginxConf({ dir, port: 41000, upstreamPort: 41001, accessLog: true }));
    const r = Bun.spawnSync([cached!, "-t", "-p", dir, "-c", file, "-e", "stderr"], { stdout: "pipe", stderr: "pipe" });
    expect(r.stderr.toString()).toContain("test is successful");
    expect(r.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
