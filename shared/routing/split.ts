// Weighted split between destinations (e.g. 80/20 canary): picks one value in proportion to its integer weight.
// Built once per route at compile time; each pick is one random number and a binary search over cumulative weights.

export type Weighted<T> = { readonly value: T; readonly weight: number };

/** Throws on a negative/non-integer weight or a zero total: config validation should have caught that already. */
export function createWeightedPicker<T>(items: ReadonlyArray<Weighted<T>>, random: () => number = Math.random): () => T {
  const values: T[] = [];
  const cumulative: number[] = [];
  let total = 0;
  for (const item of items) {
    if (!Number.isInteger(item.weight) || item.weight < 0) throw new Error(`weight must be an integer >= 0, got ${item.weight}`);
    if (item.weight === 0) continue; // zero weight: never picked
    total += item.weight;
    values.push(item.value);
    cumulative.push(total);
  }
  if (total === 0) throw new Error("weighted split needs a total weight > 0");
  if (values.length === 1) {
    const only = values[0] as T;
    return () => only;
  }
  return () => {
    const r = Math.floor(random() * total); // 0 .. total-1
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > r) hi = mid;
      else lo = mid + 1;
    }
    return values[lo] as T;
  };
}
