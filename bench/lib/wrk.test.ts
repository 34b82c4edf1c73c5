// Tests wrk output parsing against real wrk 4.1 reports, and one real wrk run against a local server.
// The real run checks that failed responses are counted, so a fast 500 never looks like a fast proxy.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { provisionBinary } from "./provision.ts";
import { parseWrk, runWrk } from "./wrk.ts";

const OK = `Running 2s test @ http://127.0.0.1:37165/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.26ms    1.17ms  13.96ms   72.56%
    Req/Sec    18.91k     2.95k   24.21k    65.00%
  Latency Distribution
     50%    3.06ms
     75%    3.86ms
     90%    4.80ms
     99%    7.21ms
  37710 requests in 2.01s, 4.28MB read
Requests/sec:  18800.44
Transfer/sec:      2.13MB
`;

const ERRORS = `Running 1s test @ http://127.0.0.1:1/
  1 threads and 1 connections
  Latency Distribution
     50%   28.00us
     75%   40.00us
     90%   66.00us
     99%    1.20s
  555 requests in 1.00s, 6.29KB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 17
Requests/sec:    555.00
`;

describe("parseWrk", () => {
  test("reads req/s, request count and percentiles in microseconds", () => {
    const r = parseWrk(OK);
    expect(r).toMatchObject({ requests: 37710, seconds: 2.01, rps: 18800.44, p50_us: 3060, p75_us: 3860, p90_us: 4800, p99_us: 7210, non2xx: 0, socketErrors: 0 });
  });

  test("converts us and s units and counts socket errors and non-2xx", () => {
    const r = parseWrk(ERRORS);
    expect(r.p50_us).toBe(28);
    expect(r.p99_us).toBe(1_200_000);
    expect(r.socketErrors).toBe(6);
    expect(r.non2xx).toBe(17);
  });

  test("throws when --latency percentiles are missing", () => {
    expect(() => parseWrk(OK.replace(/^\s+99%.*$/m, ""))).toThrow(/99%/);
  });
});

describe("runWrk against a real server", () => {
  let status = 200;
  let bin = "";
  // The wrk the bench would run: on PATH, or fetched from Debian by deploy/bench/provision-wrk.sh on a fresh machine.
  beforeAll(async () => {
    bin = await provisionBinary(join(import.meta.dir, "../.."), "wrk");
  }, 120_000);
  let lastHost = "";
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      lastHost = req.headers.get("host") ?? "";
      return new Response("x", { status });
    },
  });
  afterAll(() => server.stop(true));

  test("measures requests and sends the Host header", async () => {
    const r = await runWrk({ bin, url: `http://127.0.0.1:${server.port}/`, host: "upstream", connections: 2, seconds: 1, pin: [] });
    expect(r.requests).toBeGreaterThan(100);
    expect(r.non2xx).toBe(0);
    expect(lastHost).toBe("upstream");
  });

  test("counts 5xx answers as failed responses", async () => {
    status = 503;
    const r = await runWrk({ bin, url: `http://127.0.0.1:${server.port}/`, connections: 1, seconds: 1, pin: [] });
    expect(r.non2xx).toBe(r.requests);
  });
});
