/** A source of random numbers in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * Mulberry32: a tiny, fast, seeded PRNG with a 32-bit state. Not for anything
 * secret, but plenty for shuffling computer moves; a fixed seed makes tests and
 * benchmarks repeat exactly.
 */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One item chosen uniformly with `random`. Clamped so that a misbehaving source
 * (returning 1, a negative number or NaN) still yields a member of `items`.
 */
export function pick<T>(items: readonly T[], random: Random): T {
  if (items.length === 0) throw new Error('pick() needs at least one item');
  const i = Math.floor(random() * items.length);
  const index = i >= 0 ? Math.min(i, items.length - 1) : 0; // NaN fails i >= 0
  return items[index] as T;
}
