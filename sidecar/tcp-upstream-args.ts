// --tcp-upstream SERVICE=PORT (repeatable; MESH_TCP_UPSTREAM=db=15432,cache=16379; `tcp-upstream:` in the sidecar
// config file as a list or a mapping): one local listener per TCP service this sidecar's app calls.
export type TcpUpstreamArg = { readonly service: string; readonly port: number };

const SERVICE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** `taken`: the sidecar's other ports by flag name, so a clash is named instead of failing at bind time. */
export function parseTcpUpstreams(raw: readonly string[], taken: Readonly<Record<string, number>>): TcpUpstreamArg[] {
  const out: TcpUpstreamArg[] = [];
  for (const item of raw) {
    const m = /^([^=]+)=(\d+)$/.exec(item.trim());
    if (m === null) throw new Error(`--tcp-upstream: "${item}" is not SERVICE=PORT (e.g. db=15432)`);
    const service = m[1]!;
    const port = Number(m[2]);
    if (!SERVICE.test(service)) throw new Error(`--tcp-upstream: "${service}" is not a service name (a DNS label)`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--tcp-upstream: "${m[2]}" is not a port number from 1 to 65535 (the app must know it)`);
    const dup = out.find((u) => u.service === service || u.port === port);
    if (dup !== undefined) throw new Error(`--tcp-upstream: ${item} repeats ${dup.service === service ? `service ${service}` : `port ${port}`} (already ${dup.service}=${dup.port})`);
    const clash = Object.entries(taken).find(([, p]) => p === port);
    if (clash !== undefined) throw new Error(`--tcp-upstream: ${item} uses port ${port}, already the --${clash[0]}`);
    out.push({ service, port });
  }
  return out;
}
