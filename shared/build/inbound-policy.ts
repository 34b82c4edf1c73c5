// A service's own inbound policy (fault injection and local rate limit from services.<name>.policy), compiled per
// snapshot for that service's sidecars; the inbound filter reads the live snapshot's, so changes apply without restart.
import type { PolicyConfig } from "../config/schema.ts";
import type { Filter, Handler } from "../types.ts";
import type { KeyedBuckets, TokenBucketConfig } from "../upstream/token-bucket.ts";
import type { InboundPolicy } from "../proxy/snapshot.ts";
import { compileFault } from "./resilience.ts";
import { faultFilter } from "../filters/fault.ts";
import { compileRateLimit, rateLimitFilter } from "../filters/rate-limit.ts";


export function compileInboundPolicy(p: PolicyConfig, o: { trustDomain: string; namespace: string; service: string; instance: string | undefined; buckets(key: string, c: TokenBucketConfig): KeyedBuckets }): InboundPolicy | undefined {
  const filters: Filter[] = [];
  let rateLimit: InboundPolicy["rateLimit"];
  if (p.rateLimit !== undefined) {
    rateLimit = compileRateLimit(p.rateLimit, (c) => o.buckets(o.service, c));
    filters.push(rateLimitFilter(rateLimit.buckets, rateLimit.key));
  }
  const fault = p.fault === undefined ? undefined : compileFault(p.fault, { trustDomain: o.trustDomain, namespace: o.namespace, self: o.service, instance: o.instance, side: "inbound" });
  if (fault !== undefined) filters.push(faultFilter(fault));
  if (filters.length === 0) return undefined;
  return {
    wrap: (next: Handler) => filters.reduceRight<Handler>((h, f) => f(h), next),
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(fault === undefined ? {} : { fault }),
  };
}

/** The inbound filter: runs the live policy when there is one, its chain built once per policy (i.e. per snapshot). */
export function inboundPolicyFilter(current: () => InboundPolicy | undefined): Filter {
  return (next) => {
    const built = new WeakMap<InboundPolicy, Handler>();
    return (req, ctx) => {
      const p = current();
      if (p === undefined) return next(req, ctx);
      let h = built.get(p);
      if (h === undefined) built.set(p, (h = p.wrap(next)));
      return h(req, ctx);
    };
  };
}
