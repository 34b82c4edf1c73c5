// `bun run bench/authz-filter.ts`: what the inbound authorization filter costs per request on its own, with the
// sidecar-pair-authz ten-rule policy, against the same chain with no policy. The pair bench is too noisy for 1 %.
import { authzPairConfig, meshConfig, UPSTREAM_SERVICE } from "./lib/mesh-config.ts";
import { compileAuthorizer } from "../shared/filters/authorization.ts";
import { authorizationFilter } from "../shared/filters/authorization.ts";
import type { Handler, RequestContext } from "../shared/types.ts";

const TD = "mesh.local";
const CLIENT = `spiffe://${TD}/ns/default/svc/client`;
const N = 500_000;
const ok = new Response("ok");
const app: Handler = async () => ok;

function chainFor(withPolicy: boolean): Handler {
  const cfg = withPolicy ? authzPairConfig(1) : meshConfig(1);
  const authz = compileAuthorizer(UPSTREAM_SERVICE, cfg.authorization?.[UPSTREAM_SERVICE], cfg.defaultAuthorization ?? "allow", TD);
  return authorizationFilter(() => (withPolicy ? authz : undefined))(app);
}

async function nsPerRequest(h: Handler): Promise<number> {
  const req = new Request("http://upstream/data?x=1", { headers: { "x-request-id": "r" } });
  const ctx: RequestContext = { requestId: "r", startedAt: 0, signal: new AbortController().signal, tried: new Set(), attempts: 0, peer: CLIENT };
  for (let i = 0; i < 50_000; i++) await h(req, ctx); // warm up the JIT
  const t0 = performance.now();
  for (let i = 0; i < N; i++) await h(req, ctx);
  return ((performance.now() - t0) * 1e6) / N;
}

const rows: Array<[string, number]> = [];
for (let round = 0; round < 3; round++) {
  rows.push(["no policy", await nsPerRequest(chainFor(false))]);
  rows.push(["ten rules", await nsPerRequest(chainFor(true))]);
}
const median = (name: string) => rows.filter((r) => r[0] === name).map((r) => r[1]).sort((a, b) => a - b)[1]!;
const none = median("no policy");
const ten = median("ten rules");
console.log(`authorization filter, median of 3 x ${N} requests: no policy ${none.toFixed(0)} ns, ten rules ${ten.toFixed(0)} ns, +${(ten - none).toFixed(0)} ns per request`);
console.log(JSON.stringify({ noPolicyNs: Math.round(none), tenRulesNs: Math.round(ten), addedNs: Math.round(ten - none) }));
