// A radix tree of plain string prefixes (not path segments: "/echo" is a prefix of "/echoes"), asked for the
// prefixes of a key from the longest to the shortest, so the table never scans the prefix routes it has.

/**
 * Edges carry whole runs of characters (a chain without branches or values is one node), so 10,000 prefixes like
 * "/svc-00042/" cost about 10,000 leaves plus their branch points, not one node per character.
 */
export type PrefixNode<V> = {
  /** The characters from the parent to this node; "" only at the root, which stands for the empty prefix. */
  label: string;
  /** What is stored for exactly this prefix; undefined on branch points that are no inserted prefix. */
  value: V | undefined;
  /** By the first char code of the child's label; absent on leaves, which are most nodes. */
  children: Map<number, PrefixNode<V>> | undefined;
};

export function createPrefixTree<V>(): PrefixNode<V> {
  return { label: "", value: undefined, children: undefined };
}

/** The node standing for exactly `prefix`, created (and edges split) as needed; the caller sets its value. */
export function prefixNode<V>(root: PrefixNode<V>, prefix: string): PrefixNode<V> {
  let node = root;
  let pos = 0;
  while (pos < prefix.length) {
    const code = prefix.charCodeAt(pos);
    const children: Map<number, PrefixNode<V>> = (node.children ??= new Map());
    const child = children.get(code);
    if (child === undefined) {
      const leaf: PrefixNode<V> = { label: prefix.slice(pos), value: undefined, children: undefined };
      children.set(code, leaf);
      return leaf;
    }
    const common = commonLength(child.label, prefix, pos);
    if (common < child.label.length) {
      // The prefix ends inside the child's edge or leaves it: split the edge where they part.
      const rest = child.label.slice(common);
      const split: PrefixNode<V> = { label: child.label.slice(0, common), value: undefined, children: new Map([[rest.charCodeAt(0), child]]) };
      child.label = rest;
      children.set(code, split);
      node = split;
    } else {
      node = child;
    }
    pos += common;
  }
  return node;
}

/** How many chars of `label` equal `key` from `pos` on. */
function commonLength(label: string, key: string, pos: number): number {
  let i = 0;
  while (i < label.length && pos + i < key.length && label.charCodeAt(i) === key.charCodeAt(pos + i)) i++;
  return i;
}

/**
 * The first non-undefined `pick(value, ctx)` over the prefixes of `key` that have a value, longest first. Lazy:
 * shorter prefixes are only asked when every longer one declined. `pick` and `ctx` are passed apart so a match needs
 * no closure, and the common case (the longest prefix has a taker) is one walk that allocates nothing.
 */
export function findLongestFirst<V, C, R>(root: PrefixNode<V>, key: string, pick: (value: V, ctx: C) => R | undefined, ctx: C): R | undefined {
  const longest = walk(root, key, undefined);
  if (longest === undefined) return undefined;
  const found = pick(longest, ctx);
  if (found !== undefined) return found;
  // Rare (the longest prefix's value declined, e.g. its routes' conditions failed): walk again keeping every value met.
  const met: V[] = [];
  walk(root, key, met);
  for (let i = met.length - 2; i >= 0; i--) {
    const next = pick(met[i] as V, ctx);
    if (next !== undefined) return next;
  }
  return undefined;
}

/** The value of the longest prefix of `key` that has one; with `met`, also every value on the way, shortest first. */
function walk<V>(root: PrefixNode<V>, key: string, met: V[] | undefined): V | undefined {
  let longest: V | undefined;
  let node = root;
  let pos = 0;
  for (;;) {
    if (node.value !== undefined) {
      longest = node.value;
      met?.push(longest);
    }
    const child = node.children?.get(key.charCodeAt(pos));
    if (child === undefined || !continuesWith(key, pos, child.label)) return longest;
    node = child;
    pos += child.label.length;
  }
}

/**
 * `key.startsWith(label, pos)` for a child found by its first char, which therefore needs no compare. A plain loop:
 * labels are mostly a few chars, and in our measurement it is about a quarter faster per tree level than startsWith.
 */
function continuesWith(key: string, pos: number, label: string): boolean {
  if (pos + label.length > key.length) return false;
  for (let i = 1; i < label.length; i++) if (label.charCodeAt(i) !== key.charCodeAt(pos + i)) return false;
  return true;
}
