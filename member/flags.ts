// Flag helpers every entry point shares (sidecar, gateway, meshctl): ports, the KV prefix and the Consul address
// are spelled and checked the same way everywhere.

/** Every flag also reads from MESH_<FLAG> (dashes become underscores). */
export function envName(flag: string): string {
  return `MESH_${flag.toUpperCase().replaceAll("-", "_")}`;
}

export function parsePort(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: "${raw}" is not a port number`);
  return n;
}

/** KV prefixes are folders: "mesh" and "mesh/" both mean the documents under mesh/. */
export function kvPrefix(raw: string | undefined): string {
  const p = (raw ?? "mesh/").replace(/^\/+/, "");
  return p.endsWith("/") ? p : `${p}/`;
}

/** CONSUL_HTTP_ADDR may omit the scheme (Consul's own CLI accepts "127.0.0.1:8500"). */
export function consulAddr(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  return (/^https?:\/\//.test(raw) ? raw : `http://${raw}`).replace(/\/+$/, "");
}
