// One-shot commands inside a host's namespace: meshctl on the CA host, and curl for what listens on a namespace's
// loopback only (member admin APIs, the local Consul agent). Always asynchronous: load keeps running meanwhile.

export type CommandResult = { code: number; out: string; err: string };

export async function nsRun(ns: string, cmd: string[], opts: { timeoutMs?: number; stdin?: string } = {}): Promise<CommandResult> {
  const p = Bun.spawn(["ip", "netns", "exec", ns, ...cmd], { stdout: "pipe", stderr: "pipe", stdin: opts.stdin === undefined ? "ignore" : "pipe" });
  if (opts.stdin !== undefined) {
    const w = p.stdin as import("bun").FileSink;
    w.write(opts.stdin);
    await w.end();
  }
  const timer = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, out, err };
}

export type HttpAnswer = { status: number; body: string };

/** HTTP from inside the namespace (curl); status 0 = no answer (refused, timed out). */
export async function nsHttp(ns: string, method: string, url: string, body?: string, timeoutS = 3): Promise<HttpAnswer> {
  const args = ["curl", "-sS", "-m", String(timeoutS), "-X", method, "-o", "-", "-w", "\n%{http_code}"];
  if (body !== undefined) args.push("--data-binary", "@-");
  const r = await nsRun(ns, [...args, url], { timeoutMs: (timeoutS + 2) * 1000, ...(body === undefined ? {} : { stdin: body }) });
  const nl = r.out.lastIndexOf("\n");
  const status = Number(r.out.slice(nl + 1).trim());
  return { status: Number.isInteger(status) ? status : 0, body: nl < 0 ? "" : r.out.slice(0, nl) };
}

export async function nsGetJson<T>(ns: string, url: string): Promise<T> {
  const r = await nsHttp(ns, "GET", url);
  if (r.status < 200 || r.status > 299) throw new Error(`GET ${url} in ${ns}: ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as T;
}
