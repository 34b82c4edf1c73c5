// Preloaded into the floor pair (BENCH_BUN_FLAGS="--preload ...") to measure what the design card's always-on
// libraries cost a Bun process in memory: a pino logger (every member logs) and valibot (every member validates config).
import pino from "pino";
import * as v from "valibot";

const log = pino({ name: "floor", base: undefined }, pino.destination({ dest: 1, sync: true }));
// A schema of the shape members validate (nested objects, unions, defaults), parsed once as at start.
const Route = v.object({ match: v.object({ prefix: v.optional(v.string(), "/") }), cluster: v.union([v.string(), v.array(v.string())]), timeoutMs: v.optional(v.number(), 15_000) });
const parsed = v.parse(v.object({ routes: v.array(Route) }), { routes: [{ match: {}, cluster: "app" }] });
log.info({ routes: parsed.routes.length }, "design-card libraries loaded");
