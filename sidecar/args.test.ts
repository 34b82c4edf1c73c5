// Unit tests for the sidecar's settings: flags win over MESH_* variables, which win over the config file;
// repeatable flags, key=value meta, and clear errors for what cannot work.
import { expect, test } from "bun:test";
import { parseSidecarArgs } from "./args.ts";
import { kvPrefix, consulAddr } from "../member/flags.ts";

const base = ["--service", "echo", "--app-port", "9201", "--ca", "http://127.0.0.1:8200", "--config", "mesh.yaml"];

test("flags win over environment variables, which win over the sidecar config file", () => {
  const file = { "app-port": 1111, "inbound-port": 2222, "outbound-port": 3333, tag: ["from-file"], meta: { version: "v9", team: "x" } };
  const a = parseSidecarArgs([...base, "--inbound-port", "9101"], { MESH_INBOUND_PORT: "4444", MESH_OUTBOUND_PORT: "5555" }, file);
  if (a === "help") throw new Error("unexpected help");
  expect(a.appPort).toBe(9201);
  expect(a.inboundPort).toBe(9101);
  expect(a.outboundPort).toBe(5555);
  expect(a.tags).toEqual(["from-file"]);
  expect(a.meta).toEqual({ version: "v9", team: "x" });
});

test("repeatable flags and comma-separated variables", () => {
  const a = parseSidecarArgs([...base, "--tag", "v1", "--tag", "canary", "--meta", "version=v1"], {}, {});
  const b = parseSidecarArgs(base, { MESH_TAG: "v2, blue", MESH_META: "version=v2,zone=a" }, {});
  if (a === "help" || b === "help") throw new Error("unexpected help");
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
  expect(() => parseSidecarArgs(["--service", "echo", "--app-port", "1", "--ca", "x"], {}, {})).toThrow("--config FILE is required");
});

test("Consul addresses and KV prefixes are normalised", () => {
  expect(consulAddr("127.0.0.1:8500")).toBe("http://127.0.0.1:8500");
  expect(consulAddr("https://c:8501/")).toBe("https://c:8501");
  expect(kvPrefix("mesh")).toBe("mesh/");
  expect(kvPrefix("/team/mesh/")).toBe("team/mesh/");
});
