// Unit tests for the event → label mapping: every value is bounded (status class, known causes, services from
// config or certificates, capped names), and no path, address or request id can become a label.
import { describe, expect, test } from "bun:test";
import {
  attemptLabels, authzLabels, boundedValues, causeLabel, labelContext, OTHER, requestLabels,
  sideOf, sourceService, splitCluster, statusClass, REQUEST_LABELS, DURATION_LABELS,
} from "./metric-labels.ts";
import { attemptEvent, requestEvent } from "../../test/support/telemetry-events.ts";

const TD = "mesh.local";
const event = requestEvent;
const attempt = attemptEvent;

describe("single labels", () => {
  test("side from the listener name", () => {
    expect(sideOf("gateway/http")).toBe("gateway");
    expect(sideOf("outbound")).toBe("outbound");
    expect(sideOf("inbound")).toBe("inbound");
    expect(sideOf("something-else")).toBe("other");
  });
  test("status classes, and other outside 200-599", () => {
    expect([200, 204, 301, 404, 403, 500, 503, 599].map(statusClass)).toEqual(["2xx", "2xx", "3xx", "4xx", "4xx", "5xx", "5xx", "5xx"]);
    expect(statusClass(101)).toBe(OTHER);
    expect(statusClass(600)).toBe(OTHER);
    expect(statusClass(0)).toBe(OTHER);
  });
  test("causes: the error model's own, empty when the upstream answered, other for anything else", () => {
    expect(causeLabel(undefined)).toBe("");
    expect(causeLabel("no-route")).toBe("no-route");
    expect(causeLabel("no-healthy-endpoint")).toBe("no-healthy-endpoint");
    expect(causeLabel("forbidden")).toBe("forbidden");
    expect(causeLabel("made-up")).toBe(OTHER);
    expect(causeLabel("toString")).toBe(OTHER); // not fooled by the prototype
  });
  test("cluster names split into service and subset", () => {
    expect(splitCluster("echo")).toEqual(["echo", ""]);
    expect(splitCluster("echo/v2")).toEqual(["echo", "v2"]);
    expect(splitCluster(undefined)).toEqual(["", ""]);
  });
  test("source service from a SPIFFE id in our trust domain; unauthenticated without one; other otherwise", () => {
    expect(sourceService("spiffe://mesh.local/ns/default/svc/web", TD)).toBe("web");
    expect(sourceService(undefined, TD)).toBe("unauthenticated");
    expect(sourceService("spiffe://other.domain/ns/default/svc/web", TD)).toBe(OTHER);
    expect(sourceService("spiffe://mesh.local/not/a/workload", TD)).toBe(OTHER);
  });
  test("a bounded label keeps its first values and makes later new ones other", () => {
    const b = boundedValues(2);
    expect(["a", "b", "c", "a", "d", "", "b"].map(b)).toEqual(["a", "b", OTHER, "a", OTHER, "", "b"]);
  });
});

describe("request labels", () => {
  const ctx = () => labelContext("echo", TD);
  test("outbound: route, destination service and subset from the cluster, no caller", () => {
    const l = requestLabels(event(), ctx());
    expect(Object.fromEntries(REQUEST_LABELS.map((n, i) => [n, l.requests[i]]))).toEqual({
      side: "outbound", route: "echo", destination_service: "echo", destination_subset: "v1", source_service: "", response_code_class: "2xx", cause: "",
    });
    expect(Object.fromEntries(DURATION_LABELS.map((n, i) => [n, l.duration[i]]))).toEqual({ side: "outbound", route: "echo", destination_service: "echo", response_code_class: "2xx" });
    expect(l.retries).toEqual(["outbound", "echo"]);
  });
  test("no route: route, destination and subset are empty, the cause says why", () => {
    const l = requestLabels(event({ listener: "gateway/http", route: undefined, cluster: undefined, status: 404, cause: "no-route" }), ctx());
    expect(l.requests).toEqual(["gateway", "", "", "", "", "4xx", "no-route"]);
  });
  test("inbound: the destination is the member itself, the caller comes from the peer id", () => {
    const l = requestLabels(event({ listener: "inbound", route: undefined, cluster: undefined, peer: "spiffe://mesh.local/ns/default/svc/web", status: 403, cause: "forbidden" }), ctx());
    expect(l.requests).toEqual(["inbound", "", "echo", "", "web", "4xx", "forbidden"]);
    const plain = requestLabels(event({ listener: "inbound", route: undefined, cluster: undefined, peer: undefined }), ctx());
    expect(plain.requests[4]).toBe("unauthenticated");
  });
  test("the path, method, request id and endpoint never reach a label", () => {
    const a = event({ path: "/x/1?q=secret", requestId: "id-1", endpoint: "echo-1", method: "GET" });
    const b = event({ path: "/y/2", requestId: "id-2", endpoint: "echo-2", method: "POST" });
    const c = ctx();
    expect(requestLabels(a, c)).toEqual(requestLabels(b, c));
  });
  test("too many distinct route names end in other", () => {
    const c = labelContext("echo", TD, 3);
    const routes = ["r1", "r2", "r3", "r4", "r5"].map((r) => requestLabels(event({ route: r }), c).requests[1]);
    expect(routes).toEqual(["r1", "r2", "r3", OTHER, OTHER]);
  });
});

describe("attempt and authorization labels", () => {
  test("attempts: the member's side, service and subset, the outcome", () => {
    const c = labelContext("web", TD);
    expect(attemptLabels(attempt({ cluster: "echo/v2", outcome: "connect-failure" }), "outbound", c)).toEqual({
      attempts: ["outbound", "echo", "v2", "connect-failure"],
      duration: ["outbound", "echo", "v2"],
    });
  });
  test("authorization: allow or deny, the rule or default", () => {
    const c = labelContext("echo", TD);
    expect(authzLabels({ allowed: false, rule: "no-web" }, c)).toEqual(["deny", "no-web"]);
    expect(authzLabels({ allowed: true, rule: "default" }, c)).toEqual(["allow", "default"]);
  });
});
