// Maglev consistent hashing (Eisenbud et al., NSDI 2016; Envoy's maglev): a prime-sized lookup table that endpoints
// fill in turns along their own permutations, so shares are near-equal and a pick is one array read.
import type { Balancer, Endpoint } from "../types.ts";
import { fmix32, hash32Seeded } from "./hash-key.ts";
import { lastTried } from "./last-tried.ts";
import { createRoundRobin } from "./round-robin.ts";

export type MaglevOptions = {
  /** Lookup table size M: a prime (so every skip walks all slots), well above the endpoint count. Default 65537. */
  readonly tableSize?: number;
};

const DEFAULT_TABLE_SIZE = 65537;
// Envoy's upper bound: a 5M-slot table is 20 MB here, rebuilt whenever the set of endpoint ids changes.
const MAX_TABLE_SIZE = 5000011;
// Two seeds give the paper's two independent hashes h1 (offset) and h2 (skip) of an endpoint id.
const OFFSET_SEED = 0x6d61676c;
const SKIP_SEED = 0x65763031;
// Rehashed probes a retry makes before scanning the table in order; each finds an untried endpoint with
// probability (untried / n), so the scan is rare but keeps the search bounded.
const RANDOM_PROBES = 32;

function isPrime(m: number): boolean {
  if (m < 2) return false;
  for (let d = 2; d * d <= m; d++) if (m % d === 0) return false;
  return true;
}

export function createMaglev(o: MaglevOptions = {}): Balancer {
  const size = o.tableSize ?? DEFAULT_TABLE_SIZE;
  if (!Number.isInteger(size) || size > MAX_TABLE_SIZE || !isPrime(size)) {
    throw new Error(`tableSize must be a prime no larger than ${MAX_TABLE_SIZE}, got ${size}`);
  }
  // Sorted by id: the fill order decides who wins a contested slot, so sorting makes the table a function of the id set.
  let endpoints: Endpoint[] = [];
  let table = new Int32Array(0);
  const roundRobin = createRoundRobin();

  /** The paper's Algorithm 1 (population): each endpoint in turn takes the next free slot of its permutation. */
  function populate(): void {
    const n = endpoints.length;
    if (n === 0) {
      table = new Int32Array(0);
      return;
    }
    const next = new Float64Array(n); // current position in each endpoint's permutation: offset + j * skip (mod M)
    const skip = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const id = (endpoints[i] as Endpoint).id;
      next[i] = hash32Seeded(id, OFFSET_SEED) % size;
      skip[i] = (hash32Seeded(id, SKIP_SEED) % (size - 1)) + 1;
    }
    const t = new Int32Array(size).fill(-1);
    let filled = 0;
    for (;;) {
      for (let i = 0; i < n; i++) {
        const step = skip[i] as number;
        let c = next[i] as number;
        while ((t[c] as number) >= 0) {
          c += step;
          if (c >= size) c -= size;
        }
        t[c] = i;
        c += step;
        next[i] = c >= size ? c - size : c;
        // More endpoints than slots: the table is full before every endpoint got one (they are only reached by
        // round robin); the paper assumes n ≤ M.
        if (++filled === size) {
          table = t;
          return;
        }
      }
    }
  }

  function allExcluded(exclude: ReadonlySet<string>): boolean {
    if (exclude.size < endpoints.length) return false;
    for (let i = 0; i < endpoints.length; i++) if (!exclude.has((endpoints[i] as Endpoint).id)) return false;
    return true;
  }

  /**
   * The first endpoint, along this key's probe sequence, that is not in `exclude` (or, without it, is not `avoid`).
   * Probes are rehashes of the key rather than the neighbouring slots: the fill lays endpoints out along arithmetic
   * progressions, so a slot's neighbour is correlated with its owner (measured: some endpoints got 1.6x the retries
   * of others). Rehashed slots follow the table shares, so retries spread evenly over the untried endpoints, and a
   * key's retries always take the same path.
   */
  function probe(hash: number, slot: number, exclude: ReadonlySet<string> | undefined, avoid: Endpoint | undefined): Endpoint | undefined {
    for (let k = 1; k <= RANDOM_PROBES; k++) {
      const e = endpoints[table[fmix32((hash ^ Math.imul(k, 0x9e3779b9)) >>> 0) % size] as number] as Endpoint;
      if (exclude !== undefined ? !exclude.has(e.id) : e !== avoid) return e;
    }
    for (let k = 1; k < size; k++) {
      const e = endpoints[table[(slot + k) % size] as number] as Endpoint;
      if (exclude !== undefined ? !exclude.has(e.id) : e !== avoid) return e;
    }
    return undefined;
  }

  return {
    update(list) {
      const byId = new Map<string, Endpoint>();
      for (const e of list) if (!byId.has(e.id)) byId.set(e.id, e);
      const next = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const sameIds = next.length === endpoints.length && next.every((e, i) => e.id === (endpoints[i] as Endpoint).id);
      endpoints = next;
      roundRobin.update(endpoints);
      // Same ids: the table is the same, only the Endpoint values (address, tags) may have changed.
      if (!sameIds) populate();
    },
    pick(exclude?: ReadonlySet<string>, hash?: number) {
      const n = endpoints.length;
      if (n === 0) return undefined;
      // No affinity key on this request: spread it like round robin rather than piling keyless traffic on one slot.
      if (hash === undefined) return roundRobin.pick(exclude);
      const slot = (hash >>> 0) % size;
      const home = endpoints[table[slot] as number] as Endpoint;
      if (exclude === undefined || exclude.size === 0 || !exclude.has(home.id)) return home;
      if (!allExcluded(exclude)) {
        const e = probe(hash >>> 0, slot, exclude, undefined);
        return e ?? roundRobin.pick(exclude); // only endpoints without a slot (n > M) were left untried
      }
      // Everything was tried: the key's own endpoint beats failing the retry, unless it is the one that just failed.
      if (n > 1 && home.id === lastTried(exclude)) return probe(hash >>> 0, slot, undefined, home) ?? home;
      return home;
    },
    start() {},
    report() {},
  };
}
