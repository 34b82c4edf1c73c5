// 32-bit string hashes for consistent hashing: request affinity keys, ring hash points and Maglev permutations.
// Deterministic and unseeded by default, so every gateway and sidecar maps the same key to the same endpoint.

// Why FNV-1a + fmix32: FNV-1a is a tight loop with no allocation (it reads UTF-16 code units directly, so no
// TextEncoder copy per request) and is fast on the short keys affinity uses (user ids, cookies, ring point names).
// On its own its low bits mix poorly: bit 0 is just the parity of the input's bit 0s, and keys differing only in the
// last character differ in few bits. Ring lookup compares whole values and Maglev takes `hash % M`, so both need
// every bit to depend on every input bit; murmur3's fmix32 finalizer gives that avalanche for five operations.
// Not a keyed hash: a client can choose keys that land on one endpoint, but a client choosing the key can do that
// with any deterministic hash, and there is no table here to flood.

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * murmur3's 32-bit finalizer: a bijection on 32 bits where each input bit flips each output bit with p ≈ 1/2.
 * Also rehashes a key's hash into a fresh, independent-looking one (Maglev's retry probes).
 */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function fnv1a(s: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h;
}

/** A well-distributed 32-bit unsigned hash of `s`. Stable across releases: changing it remaps every affinity key. */
export function hash32(s: string): number {
  return fmix32(fnv1a(s, FNV_OFFSET));
}

/**
 * A member of a family of hashes: different seeds give (practically) independent values for the same string, as
 * Maglev needs for an endpoint's offset and skip. The seed is spread first so seeds 1 and 2 differ in many bits, and
 * mixed in again between two finalizer rounds so the results are not one fixed bijection of related FNV states.
 * Only used when tables are built, so the second round costs nothing per request.
 */
export function hash32Seeded(s: string, seed: number): number {
  const k = fmix32((seed ^ 0x9e3779b9) >>> 0);
  return fmix32((fmix32(fnv1a(s, FNV_OFFSET ^ k)) ^ k) >>> 0);
}
