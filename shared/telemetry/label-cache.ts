// Caches from an event's label-making fields to its metric series, as maps nested by field: a hit builds no key
// string. The fields are config strings and a connection's peer id, the same objects every time, so their hashes are kept.
import type { AttemptEvent, RequestEvent } from "./observe.ts";

// Why not one key string per event: joining six fields and hashing the result cost ~130 ns a lookup, the nested maps
// ~30 (bun, a loop of lookups on this machine), and the string was garbage per request on every side.
type Level = Map<unknown, unknown>;

/** The insertion side, shared by both caches (misses only): creates the levels, counts values, starts over at `limit`. */
class Tree<V> {
  root: Level = new Map();
  size = 0;
  constructor(private readonly limit: number) {}

  set(keys: readonly unknown[], value: V): void {
    // Past the limit it starts over (the callers' series stay registered; only their lookup is rebuilt), so a
    // runaway of distinct keys can't grow it without bound.
    if (this.size >= this.limit) {
      this.root = new Map();
      this.size = 0;
    }
    let node = this.root;
    const last = keys.length - 1;
    for (let i = 0; i < last; i++) {
      let next = node.get(keys[i]) as Level | undefined;
      if (next === undefined) node.set(keys[i], (next = new Map()));
      node = next;
    }
    if (!node.has(keys[last])) this.size++;
    node.set(keys[last], value);
  }
}

const statusDigit = (status: number): number => (status / 100) | 0;

/**
 * By the fields request labels are made of: listener, route, cluster, status class, the mesh's cause and the peer.
 * Never the path, method, request id or endpoint, which are not labels.
 */
export class RequestLabelCache<V> {
  readonly #tree: Tree<V>;
  constructor(limit: number) {
    this.#tree = new Tree(limit);
  }
  get(e: RequestEvent): V | undefined {
    // Unrolled: a key array per lookup would be the very allocation this cache is here to avoid.
    const byRoute = this.#tree.root.get(e.listener) as Level | undefined;
    const byCluster = byRoute?.get(e.route) as Level | undefined;
    const byStatus = byCluster?.get(e.cluster) as Level | undefined;
    const byCause = byStatus?.get(statusDigit(e.status)) as Level | undefined;
    const byPeer = byCause?.get(e.cause) as Level | undefined;
    return byPeer?.get(e.peer) as V | undefined;
  }
  set(e: RequestEvent, value: V): void {
    this.#tree.set([e.listener, e.route, e.cluster, statusDigit(e.status), e.cause, e.peer], value);
  }
  get size(): number {
    return this.#tree.size;
  }
}

/** By an attempt's cluster and outcome; never its endpoint. */
export class AttemptLabelCache<V> {
  readonly #tree: Tree<V>;
  constructor(limit: number) {
    this.#tree = new Tree(limit);
  }
  get(e: AttemptEvent): V | undefined {
    return (this.#tree.root.get(e.cluster) as Level | undefined)?.get(e.outcome) as V | undefined;
  }
  set(e: AttemptEvent, value: V): void {
    this.#tree.set([e.cluster, e.outcome], value);
  }
  get size(): number {
    return this.#tree.size;
  }
}
