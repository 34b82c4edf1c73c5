// Unit tests for the sidecar's settings: flags win over MESH_* variables, which win over the config file;
// repeatable flags, key=value meta, and clear errors for what cannot work.
import { expect, test } from "bun:test";
import { parseSidecarArgs } from "./args.ts";
import { kvPrefix, consulAddr } from "../member/flags.ts";

const FP = `sha256:${"ab".repeat(32)}`;
const base = ["--service", "echo", "--app-port", "9201", "--ca", "https://10.0.0.5:8200", "--ca-fingerprint", FP, "--config", "mesh.yaml"];

test("flags win over environment variables, which win over the sidecar config file", () => {
  const file = { "app-port": 1111, "inbound-port": 2222, "outbound-port": 3333, tag: ["from-file"], meta: { version: "v9", team: "x" } };
  const a = parseSidecarArgs([...base, "--inbound-port", "9101"], { MESH_INBOUND_PORT: "4444", MESH_OUTBOUND_PORT: "5555" }, file);
  if (typeof a === "string") throw new Error("unexpected help or version");
  expect(a.appPort).toBe(9201);
  expect(a.inboundPort).toBe(9101);
  expect(a.outboundPort).toBe(5555);
  expect(a.tags).toEqual(["from-file"]);
  expect(a.meta).toEqual({ version: "v9", team: "x" });
});

test("repeatable flags and comma-separated variables", () => {
  const a = parseSidecarArgs([...base, "--tag", "v1", "--tag", "canary", "--meta", "version=v1"], {}, {});
  const b = parseSidecarArgs(base, { MESH_TAG: "v2, blue", MESH_META: "version=v2,zone=a" }, {});
  if (typeof a === "string" || typeof b === "string") throw new Error("unexpected help or version");
  expect(a.tags).toEqual(["v1", "canary"]);
  expect(a.meta).toEqual({ version: "v1" });
  expect(b.tags).toEqual(["v2", "blue"]);
  expect(b.meta).toEqual({ version: "v2", zone: "a" });
});

test("clear errors: missing service, bad port, bad meta, unknown file key, no config source", () => {
  expect(() => parseSidecarArgs(["--app-port", "1", "--ca", "x", "--config", "m"], {}, {})).toThrow("--service (or MESH_SERVICE) is required");
  expect(() => parseSidecarArgs([...base, "--inbound-port", "99999"], {}, {})).toThrow('--inbound-port: "99999" is not a port number');
  expect(() => parseSidecarArgs([...base, "--meta", "novalue"], {}, {})).toThrow('--meta: "novalue" is not key=value');
  expect(() => parseSidecarArgs(base, {}, { "app-prot": 1 })).toThrow('unknown key "app-prot"');
  expect(() => parseSidecarArgs(["--service", "echo", "--app-port", "1", "--ca", "x"], {}, {})).toThrow("no config source: pick a mode");
});

test("the mode is what the flags say: CONSUL_HTTP_ADDR alone never turns Consul on", () => {
  const env = { CONSUL_HTTP_ADDR: "127.0.0.1:8500" };
  const file = parseSidecarArgs(base, env, {});
  if (typeof file === "string") throw new Error("unexpected help or version");
  expect(file).toMatchObject({ mode: "file", config: "mesh.yaml", consul: undefined });
  expect(file.modeWhy).toBe("--config given without --consul; CONSUL_HTTP_ADDR is set but ignored (only --consul or MESH_CONSUL selects Consul)");
  const noConfig = base.slice(0, -2);
  expect(() => parseSidecarArgs(noConfig, env, {})).toThrow("CONSUL_HTTP_ADDR alone does not: add --consul auto to use it");
  const mixed = parseSidecarArgs([...base, "--consul", "http://127.0.0.1:8501"], env, {});
  const kv = parseSidecarArgs([...noConfig, "--consul", "auto"], env, {});
  const kvDefault = parseSidecarArgs([...noConfig, "--consul", "auto"], {}, {});
  const fromVar = parseSidecarArgs(noConfig, { MESH_CONSUL: "127.0.0.1:9500" }, {});
  const fromFile = parseSidecarArgs(noConfig, {}, { consul: "auto" });
  if (typeof mixed === "string" || typeof kv === "string" || typeof kvDefault === "string" || typeof fromVar === "string" || typeof fromFile === "string") throw new Error("unexpected help or version");
  expect(mixed).toMatchObject({ mode: "file+consul-endpoints", config: "mesh.yaml", consul: "http://127.0.0.1:8501" });
  expect(kv).toMatchObject({ mode: "consul-kv", config: undefined, consul: "http://127.0.0.1:8500" });
  expect(kv.modeWhy).toContain("address from CONSUL_HTTP_ADDR");
  expect(kvDefault.consul).toBe("http://127.0.0.1:8500");
  expect(fromVar).toMatchObject({ mode: "consul-kv", consul: "http://127.0.0.1:9500" });
  expect(fromFile).toMatchObject({ mode: "consul-kv", consul: "http://127.0.0.1:8500" });
});

test("Consul addresses and KV prefixes are normalised", () => {
  expect(consulAddr("127.0.0.1:8500")).toBe("http://127.0.0.1:8500");
  expect(consulAddr("https://c:8501/")).toBe("https://c:8501");
  expect(kvPrefix("mesh")).toBe("mesh/");
  expect(kvPrefix("/team/mesh/")).toBe("team/mesh/");
});

test("join flags: https CA, a pinned fingerprint (any usual spelling), token or token file, state dir per instance", () => {
  const a = parseSidecarArgs([...base, "--join-token-file", "/etc/vm-mesh/echo.token", "--cert-ttl", "12h"], {}, {});
  if (typeof a === "string") throw new Error("unexpected help or version");
  expect(a.join).toEqual({ ca: "https://10.0.0.5:8200", caFingerprint: FP, joinToken: undefined, joinTokenFile: "/etc/vm-mesh/echo.token", stateDir: undefined, certTtlMs: 12 * 3_600_000 });
  const openssl = "AB:".repeat(31) + "AB";
  const b = parseSidecarArgs(["--service", "echo", "--app-port", "1", "--config", "m", "--instance", "echo-2"], { MESH_CA: "https://ca:8200/", MESH_CA_FINGERPRINT: openssl, MESH_JOIN_TOKEN: "t" }, {});
  if (typeof b === "string") throw new Error("unexpected help or version");
  expect(b.join).toMatchObject({ ca: "https://ca:8200", caFingerprint: FP, joinToken: "t", stateDir: ".mesh/state/echo-2" });
  const c = parseSidecarArgs([...base, "--state-dir", "/var/lib/mesh/echo"], {}, {});
  if (typeof c === "string") throw new Error("unexpected help or version");
  expect(c.join.stateDir).toBe("/var/lib/mesh/echo");
});

test("join flags refuse what cannot be safe: no fingerprint, a plain-HTTP CA, both token forms", () => {
  const noPin = ["--service", "echo", "--app-port", "1", "--config", "m", "--ca", "https://ca:8200"];
  expect(() => parseSidecarArgs(noPin, {}, {})).toThrow("a member never trusts an unpinned CA");
  expect(() => parseSidecarArgs([...noPin, "--ca-fingerprint", "sha256:1234"], {}, {})).toThrow("is not a SHA-256 fingerprint");
  expect(() => parseSidecarArgs(base.map((x) => (x.startsWith("https:") ? "http://ca:8200" : x)), {}, {})).toThrow("must be the CA's https://HOST:PORT");
  expect(() => parseSidecarArgs([...base, "--join-token", "a", "--join-token-file", "b"], {}, {})).toThrow("not both");
  expect(() => parseSidecarArgs([...base, "--cert-ttl", "1y"], {}, {})).toThrow("--cert-ttl");
});

test("--tcp-upstream: repeatable SERVICE=PORT, from flags, MESH_TCP_UPSTREAM or the file (list or mapping)", () => {
  const a = parseSidecarArgs([...base, "--tcp-upstream", "db=15432", "--tcp-upstream", "cache=16379"], {}, {});
  const b = parseSidecarArgs(base, { MESH_TCP_UPSTREAM: "db=15432, cache=16379" }, {});
  const c = parseSidecarArgs(base, {}, { "tcp-upstream": { db: 15432 } });
  const d = parseSidecarArgs(base, {}, { "tcp-upstream": ["db=15432"] });
  const e = parseSidecarArgs([...base, "--tcp-upstream", "kafka=19092"], { MESH_TCP_UPSTREAM: "db=15432" }, { "tcp-upstream": ["x=1"] });
  if (typeof a === "string" || typeof b === "string" || typeof c === "string" || typeof d === "string" || typeof e === "string") throw new Error("unexpected help or version");
  expect(a.tcpUpstreams).toEqual([{ service: "db", port: 15432 }, { service: "cache", port: 16379 }]);
  expect(b.tcpUpstreams).toEqual(a.tcpUpstreams);
  expect(c.tcpUpstreams).toEqual([{ service: "db", port: 15432 }]);
  expect(d.tcpUpstreams).toEqual(c.tcpUpstreams);
  expect(e.tcpUpstreams).toEqual([{ service: "kafka", port: 19092 }]); // flags win over the variable and the file
  const none = parseSidecarArgs(base, {}, {});
  if (typeof none === "string") throw new Error("unexpected help or version");
  expect(none.tcpUpstreams).toEqual([]);
});

test("--tcp-upstream refuses what cannot work, naming the item", () => {
  const up = (...v: string[]) => () => parseSidecarArgs([...base, ...v.flatMap((x) => ["--tcp-upstream", x])], {}, {});
  expect(up("db")).toThrow('--tcp-upstream: "db" is not SERVICE=PORT (e.g. db=15432)');
  expect(up("db=abc")).toThrow('--tcp-upstream: "db=abc" is not SERVICE=PORT');
  expect(up("Db_1=5432")).toThrow('--tcp-upstream: "Db_1" is not a service name (a DNS label)');
  expect(up("db=0")).toThrow('--tcp-upstream: "0" is not a port number from 1 to 65535');
  expect(up("db=70000")).toThrow('--tcp-upstream: "70000" is not a port number from 1 to 65535');
  expect(up("db=15432", "db=15433")).toThrow("--tcp-upstream: db=15433 repeats service db (already db=15432)");
  expect(up("db=15432", "cache=15432")).toThrow("--tcp-upstream: cache=15432 repeats port 15432 (already db=15432)");
  expect(up("db=15001")).toThrow("--tcp-upstream: db=15001 uses port 15001, already the --outbound-port");
  expect(() => parseSidecarArgs([...base, "--admin-port", "0", "--tcp-upstream", "db=15000"], {}, {})).not.toThrow();
});

test("--help and --version are answered before any other flag is checked", () => {
  expect(parseSidecarArgs(["--help"], {})).toBe("help");
  expect(parseSidecarArgs(["-h", "--bogus"], {})).toBe("help");
  expect(parseSidecarArgs(["--version"], {})).toBe("version");
  // A value that happens to read like a flag is still a value.
  expect(() => parseSidecarArgs(["--service", "--help"], {})).toThrow();
});
