// Ring hash balancer (Envoy's ring_hash, ketama-style): every endpoint owns many points on a 32-bit ring and a
// request's affinity hash goes to the first point at or after it, so removing an endpoint moves only its keys.
import type { Balancer, Endpoint } from "../types.ts";
import { hash32 } from "./hash-key.ts";
import { lastTried } from "./last-tried.ts";
import { createRoundRobin } from "./round-robin.ts";

export type RingHashOptions = {
  /** Points each endpoint owns on the ring (ketama's 160 by default); more points, more even shares. */
  readonly pointsPerEndpoint?: number;
  /** Most points on the ring (Envoy's maximum_ring_size); at most 8M. Default 8M. */
  readonly maxRingSize?: number;
};

export type RingHashBalancer = Balancer & {
  /** Points on the ring now (tests and admin view). */
  readonly ringSize: number;
};

const MAX_RING_SIZE = 8 * 1024 * 1024;
// Points every endpoint gets however many endpoints there are (ketama's 160). Envoy gives each ceil(minRingSize / n)
// points; that count changes with n, and every change moves keys between endpoints that stayed (at 10 endpoints and
// Envoy's default minimum, removing one moved 7.5% of the other keys; at 3 → 2 endpoints, 14.5%). A fixed count keeps
// the consistent-hashing guarantee at any size; the maximum only removes points beyond 52k endpoints.
const STABLE_POINTS = 160;
// Sorting packs (point hash, endpoint index) into one float64: 32 + 21 bits fit the 53-bit mantissa exactly.
const INDEX_RANGE = 2 ** 21;

export function createRingHash(o: RingHashOptions = {}): RingHashBalancer {
  const each = o.pointsPerEndpoint ?? STABLE_POINTS;
  const maxRing = o.maxRingSize ?? MAX_RING_SIZE;
  if (!Number.isInteger(each) || each < 1) throw new Error(`pointsPerEndpoint must be a positive integer, got ${each}`);
  if (!Number.isInteger(maxRing) || maxRing < 1 || maxRing > MAX_RING_SIZE) {
    throw new Error(`maxRingSize must be an integer from 1 to ${MAX_RING_SIZE}, got ${maxRing}`);
  }
  // Sorted by id, so point order (and tie-breaking between equal point hashes) depends only on the set of ids.
  let endpoints: Endpoint[] = [];
  let points = new Uint32Array(0);
  let owner = new Uint32Array(0);
  const roundRobin = createRoundRobin();

  function build(): void {
    const n = endpoints.length;
    // Never past the maximum; at least one point each, so nobody is unreachable.
    const perEndpoint = n === 0 ? 0 : Math.max(1, Math.min(each, Math.floor(maxRing / n)));
    const total = n * perEndpoint;
    const hashes = new Uint32Array(total);
    const owners = new Uint32Array(total);
    let k = 0;
    for (let e = 0; e < n; e++) {
      const id = (endpoints[e] as Endpoint).id;
      for (let i = 0; i < perEndpoint; i++, k++) {
        hashes[k] = hash32(`${id}_${i}`);
        owners[k] = e;
      }
    }
    // A typed-array sort of packed numbers avoids a comparator call per comparison (8M points would take seconds).
    const packed = new Float64Array(total);
    for (let i = 0; i < total; i++) packed[i] = (hashes[i] as number) * INDEX_RANGE + (owners[i] as number);
    packed.sort();
    for (let i = 0; i < total; i++) {
      const v = packed[i] as number;
      const h = Math.floor(v / INDEX_RANGE);
      hashes[i] = h;
      owners[i] = v - h * INDEX_RANGE;
    }
    points = hashes;
    owner = owners;
  }

  /** Index of the first point at or after `h`, wrapping past the top of the ring to the first point. */
  function locate(h: number): number {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  function allExcluded(exclude: ReadonlySet<string>): boolean {
    if (exclude.size < endpoints.length) return false;
    for (let i = 0; i < endpoints.length; i++) if (!exclude.has((endpoints[i] as Endpoint).id)) return false;
    return true;
  }

  return {
    get ringSize() {
      return points.length;
    },
    update(list) {
      const byId = new Map<string, Endpoint>();
      for (const e of list) if (!byId.has(e.id)) byId.set(e.id, e);
      const next = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      if (next.length >= INDEX_RANGE) throw new Error(`ring hash supports fewer than ${INDEX_RANGE} endpoints, got ${next.length}`);
      const sameIds = next.length === endpoints.length && next.every((e, i) => e.id === (endpoints[i] as Endpoint).id);
      endpoints = next;
      roundRobin.update(endpoints);
      // Same ids: the ring is the same, only the Endpoint values (address, tags) may have changed.
      if (!sameIds) build();
    },
    pick(exclude?: ReadonlySet<string>, hash?: number) {
      const n = endpoints.length;
      if (n === 0) return undefined;
      // No affinity key on this request: spread it like round robin rather than piling keyless traffic on one point.
      if (hash === undefined) return roundRobin.pick(exclude);
      const len = points.length;
      const at = locate(hash >>> 0);
      const home = endpoints[owner[at] as number] as Endpoint;
      if (exclude === undefined || exclude.size === 0 || !exclude.has(home.id)) return home;
      if (!allExcluded(exclude)) {
        // Walking on round the ring lands where the key would go if the tried endpoints were gone, and the same
        // key's retries always take the same path.
        for (let k = 1; k < len; k++) {
          const e = endpoints[owner[(at + k) % len] as number] as Endpoint;
          if (!exclude.has(e.id)) return e;
        }
      }
      // Everything was tried: the key's own endpoint beats failing the retry, unless it is the one that just failed.
      if (n > 1 && home.id === lastTried(exclude)) {
        for (let k = 1; k < len; k++) {
          const e = endpoints[owner[(at + k) % len] as number] as Endpoint;
          if (e !== home) return e;
        }
      }
      return home;
    },
    start() {},
    report() {},
  };
}
