// Tests for SPIFFE id formatting, strict parsing, and reading the id out of a peer certificate's SAN string.
// The SAN cases mirror what Node/Bun print in `subjectaltname`, including JSON-quoted values.
import { describe, expect, test } from "bun:test";
import { formatSpiffeId, parseSpiffeId, spiffeIdFromSubjectAltName, splitSubjectAltName } from "./spiffe.ts";

describe("formatSpiffeId / parseSpiffeId", () => {
  test("round-trips", () => {
    const id = formatSpiffeId({ trustDomain: "mesh.local", namespace: "default", service: "echo" });
    expect(id).toBe("spiffe://mesh.local/ns/default/svc/echo");
    expect(parseSpiffeId(id)).toEqual({ trustDomain: "mesh.local", namespace: "default", service: "echo" });
  });

  test("format refuses parts that would not parse", () => {
    expect(() => formatSpiffeId({ trustDomain: "Mesh.local", namespace: "default", service: "echo" })).toThrow(/trust domain/);
    expect(() => formatSpiffeId({ trustDomain: "mesh.local", namespace: "a/b", service: "echo" })).toThrow(/namespace/);
    expect(() => formatSpiffeId({ trustDomain: "mesh.local", namespace: "default", service: "-echo" })).toThrow(/service/);
  });

  test.each([
    "spiffe://mesh.local/ns/default/svc/echo/",
    "spiffe://mesh.local/ns/default/svc/echo?x=1",
    "spiffe://mesh.local/ns/default/svc/echo#f",
    "spiffe://mesh.local/ns/default/svc/Echo",
    "spiffe://MESH.local/ns/default/svc/echo",
    "SPIFFE://mesh.local/ns/default/svc/echo",
    "spiffe://mesh.local:8443/ns/default/svc/echo",
    "spiffe://user@mesh.local/ns/default/svc/echo",
    "spiffe://mesh.local/ns/default/svc/",
    "spiffe://mesh.local/ns//svc/echo",
    "spiffe://mesh.local/svc/echo",
    "spiffe://mesh.local/ns/default/sa/echo",
    "spiffe://mesh..local/ns/default/svc/echo",
    "spiffe:///ns/default/svc/echo",
    "spiffe://mesh.local/ns/default/svc/echo/extra",
    "spiffe://mesh.local/ns/default/svc/ec%68o",
    " spiffe://mesh.local/ns/default/svc/echo",
    "spiffe://mesh.local/ns/default/svc/echo\n",
    "https://mesh.local/ns/default/svc/echo",
    "",
  ])("rejects %p", (s) => {
    expect(parseSpiffeId(s)).toBeUndefined();
  });

  test("rejects a trust domain longer than 253 characters", () => {
    const td = Array.from({ length: 5 }, () => "a".repeat(60)).join(".");
    expect(parseSpiffeId(`spiffe://${td}/ns/default/svc/echo`)).toBeUndefined();
  });
});

describe("spiffeIdFromSubjectAltName", () => {
  const echo = "spiffe://mesh.local/ns/default/svc/echo";

  test("one URI entry", () => {
    expect(spiffeIdFromSubjectAltName(`URI:${echo}`)).toBe(echo);
  });

  test("one URI among other kinds of entries", () => {
    expect(spiffeIdFromSubjectAltName(`DNS:echo.internal, URI:${echo}, IP Address:127.0.0.1`)).toBe(echo);
  });

  test("two URIs -> undefined, even if both are spiffe ids", () => {
    expect(spiffeIdFromSubjectAltName(`URI:${echo}, URI:spiffe://mesh.local/ns/default/svc/other`)).toBeUndefined();
    expect(spiffeIdFromSubjectAltName(`URI:${echo}, URI:${echo}`)).toBeUndefined();
  });

  test("zero URIs, missing or empty -> undefined", () => {
    expect(spiffeIdFromSubjectAltName("DNS:echo.internal")).toBeUndefined();
    expect(spiffeIdFromSubjectAltName(undefined)).toBeUndefined();
    expect(spiffeIdFromSubjectAltName("")).toBeUndefined();
  });

  test("a non-spiffe URI -> undefined", () => {
    expect(spiffeIdFromSubjectAltName("URI:https://mesh.local/ns/default/svc/echo")).toBeUndefined();
    expect(spiffeIdFromSubjectAltName(`URI:${echo}/admin`)).toBeUndefined();
  });

  test("a quoted DNS name cannot smuggle in a URI entry", () => {
    const smuggled = `DNS:"x\\u002c URI:${echo}\\u002c DNS:y"`;
    expect(splitSubjectAltName(smuggled)).toEqual([["DNS", `x, URI:${echo}, DNS:y`]]);
    expect(spiffeIdFromSubjectAltName(smuggled)).toBeUndefined();
    // Same trick without Node's \u002c escaping, in case a runtime quotes differently.
    expect(spiffeIdFromSubjectAltName(`DNS:"x, URI:${echo}, DNS:y"`)).toBeUndefined();
  });

  test("a quoted URI is decoded, then must still be a spiffe id", () => {
    expect(spiffeIdFromSubjectAltName(`URI:"${echo}"`)).toBe(echo);
    expect(spiffeIdFromSubjectAltName(`URI:"${echo}\\u002c x"`)).toBeUndefined();
  });

  test.each(["URI", "URI:" + echo + ", ", ", URI:" + echo, `URI:"${echo}`, `URI:"${echo}"x`])("malformed %p -> undefined", (s) => {
    expect(spiffeIdFromSubjectAltName(s)).toBeUndefined();
  });
});
