// The cluster registry: cluster objects (with their balancer state) that outlive snapshots, keyed by clusterKey().
// A reload keeps an unchanged cluster, rebuilds a changed one, and forgets a removed one once its attempts end.
import type { Endpoint } from "../types.ts";
import { createCluster, type ManagedCluster } from "./cluster.ts";
import { canonicalJson, clusterKey, definitionIdentity, type ClusterDefinition } from "./definition.ts";
import { createKeyedBuckets, type KeyedBuckets, type TokenBucketConfig } from "./token-bucket.ts";

/** One reload's worth of clusters, staged so a compile that fails half-way leaves the registry untouched. */
export type ClusterPlan = {
  /** The cluster for `definition` in the coming generation: the live one if its identity is unchanged, else a new one. */
  cluster(definition: ClusterDefinition): ManagedCluster;
  /**
   * The rate limiter's buckets under `key` ("route:<name>", "inbound:<service>"), reconfigured to `c`: the live ones
   * when the key was in use, so a reload does not refill every bucket. Not applied before commit() (a staged copy).
   */
  buckets(key: string, c: TokenBucketConfig): KeyedBuckets;
  /**
   * Makes the staged clusters the registry's content and retires the rest. Returns them by key in a fresh map (for
   * the snapshot). Throws if another plan was committed since this one began.
   */
  commit(): ReadonlyMap<string, ManagedCluster>;
};

const NO_RESILIENCE = { breaker: undefined, outlier: undefined } as const;

export type ClusterRegistry = {
  begin(): ClusterPlan;
  /** begin(), one cluster() per definition, commit(): for callers that know all definitions up front. */
  reconcile(definitions: Iterable<ClusterDefinition>): ReadonlyMap<string, ManagedCluster>;
  /** The live cluster under `key` (see clusterKey), if any. */
  get(key: string): ManagedCluster | undefined;
  /** Live clusters. */
  readonly size: number;
  /** Clusters removed or replaced by a reload whose attempts have not all ended yet. */
  retired(): number;
};

type Entry = { readonly cluster: ManagedCluster; readonly identity: string; readonly service: string; readonly staticKey: string };
type Staged = { readonly entry: Entry; readonly staticEndpoints: readonly Endpoint[]; readonly staticKey: string; readonly definition: ClusterDefinition };

export function createClusterRegistry(): ClusterRegistry {
  let entries = new Map<string, Entry>();
  let limiters = new Map<string, KeyedBuckets>();
  let generation = 0;
  // Only clusters with attempts in flight stay here, and only until those attempts report: the snapshots the
  // requests hold keep the objects alive meanwhile, so this set is a count for operators, never an owner.
  const retiring = new Set<ManagedCluster>();

  const retire = (cluster: ManagedCluster): void => {
    retiring.add(cluster);
    cluster.whenIdle(() => {
      retiring.delete(cluster);
      cluster.stop();
    });
  };

  const begin = (): ClusterPlan => {
    const began = generation;
    const staged = new Map<string, Staged>();
    const stagedLimiters = new Map<string, { buckets: KeyedBuckets; config: TokenBucketConfig }>();
    let byService: Map<string, Entry[]> | undefined;

    // A new cluster of a service we already serve starts from that service's current endpoints (which discovery
    // may have set), so a policy change does not drop them; unless config changed the static instances.
    const seed = (d: ClusterDefinition, staticKey: string, replaced: Entry | undefined): readonly Endpoint[] => {
      if (replaced !== undefined && replaced.service === d.service && replaced.staticKey === staticKey) return replaced.cluster.serviceEndpoints();
      if (byService === undefined) {
        byService = new Map();
        for (const e of entries.values()) byService.set(e.service, [...(byService.get(e.service) ?? []), e]);
      }
      const same = byService.get(d.service)?.find((e) => e.staticKey === staticKey);
      return same === undefined ? d.staticEndpoints : same.cluster.serviceEndpoints();
    };

    return {
      cluster(d) {
        const key = clusterKey(d);
        const already = staged.get(key);
        // Asked again for a staged cluster (every route to it asks): the same definition object needs no check, and
        // nothing is serialized before we know it is needed (canonical JSON of 100 instances per route was most of
        // a 10,000-route compile).
        if (already !== undefined) {
          if (already.definition !== d && already.entry.identity !== definitionIdentity(d)) throw new Error(`cluster ${key} has two different definitions`);
          return already.entry.cluster;
        }
        const identity = definitionIdentity(d);
        const staticKey = canonicalJson(d.staticEndpoints);
        const live = entries.get(key);
        let entry: Entry;
        if (live !== undefined && live.identity === identity) {
          entry = live; // static endpoint changes wait for commit(): nothing live may change before it
        } else {
          const cluster = createCluster(d, d.resilience);
          cluster.setServiceEndpoints(seed(d, staticKey, live));
          entry = { cluster, identity, service: d.service, staticKey };
        }
        staged.set(key, { entry, staticEndpoints: d.staticEndpoints, staticKey, definition: d });
        return entry.cluster;
      },
      buckets(key, c) {
        const live = limiters.get(key);
        // A limiter new to this reload starts full; a live one is reconfigured only at commit.
        const buckets = live ?? stagedLimiters.get(key)?.buckets ?? createKeyedBuckets(c);
        stagedLimiters.set(key, { buckets, config: c });
        return buckets;
      },
      commit() {
        if (began !== generation) throw new Error("cluster plan is stale: another reload was committed since it began");
        generation += 1;
        const nextLimiters = new Map<string, KeyedBuckets>();
        for (const [key, l] of stagedLimiters) {
          l.buckets.configure(l.config);
          nextLimiters.set(key, l.buckets);
        }
        limiters = nextLimiters;
        for (const [key, e] of entries) if (staged.get(key)?.entry !== e) retire(e.cluster);
        const next = new Map<string, Entry>();
        const out = new Map<string, ManagedCluster>();
        for (const [key, s] of staged) {
          let e = s.entry;
          e.cluster.configure(s.definition.resilience ?? NO_RESILIENCE);
          if (e.staticKey !== s.staticKey) {
            e.cluster.setServiceEndpoints(s.staticEndpoints); // discovery (if any) re-applies its list on apply
            e = { ...e, staticKey: s.staticKey };
          }
          next.set(key, e);
          out.set(key, e.cluster);
        }
        entries = next;
        return out;
      },
    };
  };

  return {
    begin,
    reconcile(definitions) {
      const plan = begin();
      for (const d of definitions) plan.cluster(d);
      return plan.commit();
    },
    get: (key) => entries.get(key)?.cluster,
    get size() {
      return entries.size;
    },
    retired: () => retiring.size,
  };
}
