// Unit tests for the metric label caches: a hit exactly when the label-making fields are equal (by value, not by
// object), never keyed by path, method, request id or endpoint, and bounded.
import { describe, expect, test } from "bun:test";
import { AttemptLabelCache, RequestLabelCache } from "./label-cache.ts";
import type { RequestEvent } from "./observe.ts";
import { attemptEvent, requestEvent } from "../../test/support/telemetry-events.ts";

const event = requestEvent;
const attempt = attemptEvent;

describe("request label cache", () => {
  test("the path, method, request id, endpoint, duration and attempts never part of the key", () => {
    const c = new RequestLabelCache<string>(100);
    c.set(event({ path: "/x/1?q=secret", requestId: "id-1", endpoint: "echo-1", method: "GET" }), "series");
    expect(c.get(event({ path: "/y/2", requestId: "id-2", endpoint: "echo-2", method: "POST", durationMs: 9, attempts: 3 }))).toBe("series");
    expect(c.size).toBe(1);
  });

  test("statuses of one class share an entry; another class does not", () => {
    const c = new RequestLabelCache<string>(100);
    c.set(event({ status: 200 }), "2xx");
    expect(c.get(event({ status: 204 }))).toBe("2xx");
    expect(c.get(event({ status: 500 }))).toBeUndefined();
  });

  test("every label-making field tells entries apart", () => {
    const c = new RequestLabelCache<string>(100);
    c.set(event(), "base");
    const others: Array<Partial<RequestEvent>> = [
      { listener: "inbound" }, { route: "other" }, { route: undefined }, { cluster: "echo/v2" }, { cluster: undefined },
      { cause: "timeout" }, { peer: "spiffe://mesh.local/ns/default/sa/web" },
    ];
    for (const o of others) expect(c.get(event(o))).toBeUndefined();
    for (const [i, o] of others.entries()) c.set(event(o), `v${i}`);
    for (const [i, o] of others.entries()) expect(c.get(event(o))).toBe(`v${i}`);
    expect(c.get(event())).toBe("base");
    expect(c.size).toBe(others.length + 1);
  });

  test("equal strings hit whatever object carries them (field values are compared, not identities)", () => {
    const c = new RequestLabelCache<string>(100);
    const peer = ["spiffe://mesh.local", "ns/default/sa/web"].join("/");
    c.set(event({ peer, route: "a-b".slice(0, 1) }), "v");
    expect(c.get(event({ peer: "spiffe://mesh.local/ns/default/sa/web", route: "a" }))).toBe("v");
    // undefined is its own key, not the text "undefined"
    c.set(event({ route: undefined }), "none");
    expect(c.get(event({ route: "undefined" }))).toBeUndefined();
  });

  test("bounded: at the limit it starts over, so distinct keys can't grow it forever", () => {
    const c = new RequestLabelCache<number>(3);
    for (let i = 0; i < 3; i++) c.set(event({ route: `r${i}` }), i);
    expect(c.size).toBe(3);
    expect(c.get(event({ route: "r0" }))).toBe(0);
    c.set(event({ route: "r3" }), 3);
    expect(c.size).toBe(1);
    expect(c.get(event({ route: "r0" }))).toBeUndefined();
    expect(c.get(event({ route: "r3" }))).toBe(3);
    // Setting a key that is already there counts once.
    c.set(event({ route: "r3" }), 33);
    expect(c.size).toBe(1);
    expect(c.get(event({ route: "r3" }))).toBe(33);
  });
});

describe("attempt label cache", () => {
  test("by cluster and outcome, never by endpoint or try", () => {
    const c = new AttemptLabelCache<string>(100);
    c.set(attempt(), "ok");
    expect(c.get(attempt({ endpoint: { id: "a", address: "1.1.1.1", port: 1, tags: [], meta: {} }, try: 2, durationMs: 5 }))).toBe("ok");
    expect(c.get(attempt({ outcome: "timeout" }))).toBeUndefined();
    expect(c.get(attempt({ cluster: "echo/v2" }))).toBeUndefined();
  });
});
