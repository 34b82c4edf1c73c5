// Tests for --otlp-endpoint (and MESH_OTLP_ENDPOINT): a bare collector address gets OTLP's trace path, a full URL is
// kept, and anything that is not an http(s) URL, or carries credentials, stops the member at start.
import { expect, test } from "bun:test";
import { parseOtlpEndpoint } from "../flags.ts";
import { parseGatewayArgs } from "../../gateway/args.ts";
import { parseSidecarArgs } from "../../sidecar/args.ts";

test("bare addresses get /v1/traces; full URLs are kept; unset means no export", () => {
  expect(parseOtlpEndpoint(undefined)).toBeUndefined();
  expect(parseOtlpEndpoint("")).toBeUndefined();
  expect(parseOtlpEndpoint("http://127.0.0.1:4318")).toBe("http://127.0.0.1:4318/v1/traces");
  expect(parseOtlpEndpoint("http://127.0.0.1:4318/")).toBe("http://127.0.0.1:4318/v1/traces");
  expect(parseOtlpEndpoint("https://collector.example/otlp/v1/traces")).toBe("https://collector.example/otlp/v1/traces");
});

test("not a URL, another scheme, or credentials: refused with the reason", () => {
  expect(() => parseOtlpEndpoint("collector:4318")).toThrow(/http:\/\/ or https:\/\//);
  expect(() => parseOtlpEndpoint("not a url")).toThrow(/is not a URL/);
  expect(() => parseOtlpEndpoint("grpc://127.0.0.1:4317")).toThrow(/http:\/\/ or https:\/\//);
  expect(() => parseOtlpEndpoint("http://user:pw@127.0.0.1:4318")).toThrow(/credentials/);
});

test("both assemblies take the flag and MESH_OTLP_ENDPOINT", () => {
  const join = ["--ca", "https://127.0.0.1:8200", "--ca-fingerprint", `sha256:${"a".repeat(64)}`];
  const gw = parseGatewayArgs(["--config", "m.yaml", ...join, "--otlp-endpoint", "http://127.0.0.1:4318"], {});
  expect(typeof gw !== "string" && gw.otlpEndpoint).toBe("http://127.0.0.1:4318/v1/traces");
  const gwEnv = parseGatewayArgs(["--config", "m.yaml", ...join], { MESH_OTLP_ENDPOINT: "http://10.0.0.9:4318" });
  expect(typeof gwEnv !== "string" && gwEnv.otlpEndpoint).toBe("http://10.0.0.9:4318/v1/traces");
  const sc = parseSidecarArgs(["--config", "m.yaml", "--service", "web", "--app-port", "9000", ...join], { MESH_OTLP_ENDPOINT: "http://127.0.0.1:4318/v1/traces" });
  expect(typeof sc !== "string" && sc.otlpEndpoint).toBe("http://127.0.0.1:4318/v1/traces");
  const none = parseSidecarArgs(["--config", "m.yaml", "--service", "web", "--app-port", "9000", ...join], {});
  expect(typeof none !== "string" && none.otlpEndpoint).toBeUndefined();
});
