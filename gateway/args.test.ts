// Unit tests for the gateway's mode flags: only --consul (or MESH_CONSUL) turns Consul on; CONSUL_HTTP_ADDR only
// supplies the address for --consul auto; neither --config nor --consul is a usage error that names the choices.
import { expect, test } from "bun:test";
import { parseGatewayArgs } from "./args.ts";

const join = ["--ca", "https://127.0.0.1:8200", "--ca-fingerprint", `sha256:${"ab".repeat(32)}`];
const parsed = (argv: string[], env: Record<string, string | undefined> = {}) => {
  const a = parseGatewayArgs([...argv, ...join], env);
  if (typeof a === "string") throw new Error("unexpected help or version");
  return a;
};

test("CONSUL_HTTP_ADDR never switches a file-mode gateway into Consul", () => {
  const a = parsed(["--config", "gw.yaml"], { CONSUL_HTTP_ADDR: "127.0.0.1:8500" });
  expect(a).toMatchObject({ mode: "file", config: "gw.yaml", consul: undefined });
  expect(a.modeWhy).toContain("CONSUL_HTTP_ADDR is set but ignored");
});

test("--consul or MESH_CONSUL picks Consul; auto takes CONSUL_HTTP_ADDR, else the local agent", () => {
  expect(parsed(["--consul", "http://127.0.0.1:8500"])).toMatchObject({ mode: "consul-kv", config: undefined, consul: "http://127.0.0.1:8500" });
  expect(parsed(["--config", "gw.yaml"], { MESH_CONSUL: "127.0.0.1:9500" })).toMatchObject({ mode: "file+consul-endpoints", consul: "http://127.0.0.1:9500" });
  expect(parsed(["--consul", "auto"], { CONSUL_HTTP_ADDR: "127.0.0.1:7500" }).consul).toBe("http://127.0.0.1:7500");
  expect(parsed(["--consul", "auto"]).consul).toBe("http://127.0.0.1:8500");
});

test("no --config and no --consul: a usage error saying how to pick a mode, with a hint when CONSUL_HTTP_ADDR is set", () => {
  expect(() => parseGatewayArgs(join, {})).toThrow("no config source: pick a mode: --config FILE");
  expect(() => parseGatewayArgs(join, { CONSUL_HTTP_ADDR: "127.0.0.1:8500" })).toThrow("add --consul auto to use it");
});

test("--help and --version are answered before any other flag is checked", () => {
  expect(parseGatewayArgs(["--help"], {})).toBe("help");
  expect(parseGatewayArgs(["--version", "--config"], {})).toBe("version");
  expect(parseGatewayArgs(["-h"], {})).toBe("help");
});

test("the console is on by default; --console-targets takes /metrics URLs (a bare host:port means its /metrics)", () => {
  expect(parsed(["--config", "gw.yaml"])).toMatchObject({ console: true, consoleTargets: [] });
  expect(parsed(["--config", "gw.yaml", "--console-targets", "http://127.0.0.1:15301, http://127.0.0.1:15302/metrics"]).consoleTargets)
    .toEqual(["http://127.0.0.1:15301/metrics", "http://127.0.0.1:15302/metrics"]);
  expect(parsed(["--config", "gw.yaml"], { MESH_CONSOLE: "off" }).console).toBe(false);
  expect(() => parsed(["--config", "gw.yaml", "--console-targets", "127.0.0.1:15301"])).toThrow('--console-targets: "127.0.0.1:15301" is not an http(s) URL');
  expect(() => parsed(["--config", "gw.yaml", "--console-targets", "http://[bad"])).toThrow("is not a URL");
  expect(() => parsed(["--config", "gw.yaml", "--console", "maybe"])).toThrow('--console: "maybe" is not on or off');
  expect(() => parsed(["--config", "gw.yaml", "--console", "off", "--console-targets", "http://127.0.0.1:1"])).toThrow("--console-targets needs --console on");
});
