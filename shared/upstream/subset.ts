// Subset selection: the instances of a service that carry all of a subset's tags and meta values (e.g. version=v2).
// Pure and cheap; the cluster re-runs it whenever discovery reports a new endpoint list.
import type { Endpoint } from "../types.ts";

export type SubsetSelector = { readonly tags?: readonly string[]; readonly meta?: Readonly<Record<string, string>> };

/** No selector (or an empty one) selects every endpoint. Always returns a fresh array. */
export function selectSubset(endpoints: readonly Endpoint[], selector: SubsetSelector | undefined): Endpoint[] {
  const tags = selector?.tags ?? [];
  const meta = Object.entries(selector?.meta ?? {});
  if (tags.length === 0 && meta.length === 0) return [...endpoints];
  return endpoints.filter(
    (e) => tags.every((t) => e.tags.includes(t)) && meta.every(([k, v]) => Object.hasOwn(e.meta, k) && e.meta[k] === v),
  );
}
