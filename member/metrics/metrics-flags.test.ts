// --metrics on|off and --metrics-address HOST:PORT on both assemblies: on by default, strict values, the address
// only with metrics on, and MESH_METRICS / MESH_METRICS_ADDRESS from the environment.
import { expect, test } from "bun:test";
import { parseHostPort, parseMetricsFlags } from "../flags.ts";
import { parseSidecarArgs } from "../../sidecar/args.ts";
import { parseGatewayArgs } from "../../gateway/args.ts";

const join = ["--ca", "https://127.0.0.1:8200", "--ca-fingerprint", `sha256:${"ab".repeat(32)}`];
const sidecar = ["--config", "m.yaml", "--service", "echo", "--app-port", "9201", ...join];
const gateway = ["--config", "m.yaml", ...join];

test("metrics are on by default, without a metrics listener", () => {
  expect(parseMetricsFlags(() => undefined)).toEqual({ metrics: true, metricsAddress: undefined });
  const s = parseSidecarArgs(sidecar, {}, {});
  const g = parseGatewayArgs(gateway, {});
  if (typeof s === "string" || typeof g === "string") throw new Error("unexpected help or version");
  expect([s.metrics, s.metricsAddress, g.metrics, g.metricsAddress]).toEqual([true, undefined, true, undefined]);
});

test("--metrics off, and a metrics address from a flag or the environment", () => {
  const s = parseSidecarArgs([...sidecar, "--metrics", "off"], {}, {});
  const g = parseGatewayArgs(gateway, { MESH_METRICS_ADDRESS: "0.0.0.0:9102" });
  const f = parseSidecarArgs(sidecar, {}, { "metrics-address": "10.0.0.5:9102" });
  if (typeof s === "string" || typeof g === "string" || typeof f === "string") throw new Error("unexpected help or version");
  expect(s.metrics).toBe(false);
  expect(g.metricsAddress).toEqual({ hostname: "0.0.0.0", port: 9102 });
  expect(f.metricsAddress).toEqual({ hostname: "10.0.0.5", port: 9102 });
  expect(parseHostPort("metrics-address", "[::1]:9102")).toEqual({ hostname: "::1", port: 9102 });
});

test("mistakes stop the start with a reason", () => {
  expect(() => parseSidecarArgs([...sidecar, "--metrics", "yes"], {}, {})).toThrow('--metrics: "yes" must be on or off');
  expect(() => parseGatewayArgs([...gateway, "--metrics-address", "9102"], {})).toThrow('--metrics-address: "9102" is not HOST:PORT');
  expect(() => parseGatewayArgs([...gateway, "--metrics-address", "host:99999"], {})).toThrow("is not a port number");
  expect(() => parseSidecarArgs([...sidecar, "--metrics", "off", "--metrics-address", "127.0.0.1:9102"], {}, {})).toThrow("--metrics-address needs --metrics on");
});
