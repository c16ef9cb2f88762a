// The shape of the search over intervals. Every binary tree over n leaves
// has n - 1 tests, so the shape costs no length; it only decides how many
// instructions each call runs. A leaf costs what runs after the search
// reaches it (1 for a `ret`, more for a block of argument tests), so the
// tree that minimises the worst case is not always the balanced one: a
// leaf that is expensive should sit higher. Order must be kept (it is a
// search), so this is an optimal alphabetic tree under the max cost:
// cost(i..j) = 1 + min over splits of max(cost(left), cost(right)),
// found by dynamic programming; ties go to the most even split.

export type Shape = { leaf: number } | { split: number; left: Shape; right: Shape };

/** Above this many leaves the exact search gives way to plain halving. */
const EXACT_LIMIT = 400;

export function shape(weights: readonly number[]): Shape {
  const n = weights.length;
  if (n > EXACT_LIMIT) return halves(0, n - 1);
  // cost[i*n + j], best[i*n + j]: for leaves i..j.
  const cost = new Float64Array(n * n);
  const best = new Int32Array(n * n);
  for (let i = 0; i < n; i++) cost[i * n + i] = weights[i]!;
  // A split at k costs 1 + max(left(k), right(k)), left(k) = cost(i..k-1)
  // and right(k) = cost(k..j). Dropping a leaf never makes a range dearer,
  // so left grows with k and right shrinks: the splits of least cost form
  // one run [lo, hi], found by binary search instead of trying every k —
  // O(n² log n), not O(n³). Of that run, the most even split is the one
  // nearest the middle, the first of two equally near.
  for (let len = 2; len <= n; len++) {
    for (let i = 0; i + len - 1 < n; i++) {
      const j = i + len - 1;
      const L = i * n - 1; // left(k) = cost[L + k]
      // c: the first split whose left side costs at least its right side (j + 1: none).
      let a = i + 1;
      let b = j + 1;
      while (a < b) {
        const m = (a + b) >> 1;
        if (cost[L + m]! >= cost[m * n + j]!) b = m;
        else a = m + 1;
      }
      const c = a;
      // Left of c a split costs its right side, from c on its left side.
      let least = Infinity;
      if (c > i + 1) least = cost[(c - 1) * n + j]!;
      if (c <= j) least = Math.min(least, cost[L + c]!);
      // lo: the first split whose right side fits in `least`; hi: the last whose left side does.
      a = i + 1;
      b = j;
      while (a < b) {
        const m = (a + b) >> 1;
        if (cost[m * n + j]! <= least) b = m;
        else a = m + 1;
      }
      const lo = a;
      a = i + 1;
      b = j;
      while (a < b) {
        const m = (a + b + 1) >> 1;
        if (cost[L + m]! <= least) a = m;
        else b = m - 1;
      }
      const hi = a;
      cost[i * n + j] = 1 + least;
      best[i * n + j] = Math.min(Math.max((i + j + 1) >> 1, lo), hi);
    }
  }
  const build = (i: number, j: number): Shape => {
    if (i === j) return { leaf: i };
    const k = best[i * n + j]!;
    return { split: k, left: build(i, k - 1), right: build(k, j) };
  };
  return build(0, n - 1);
}

function halves(i: number, j: number): Shape {
  if (i === j) return { leaf: i };
  const k = i + Math.ceil((j - i + 1) / 2);
  return { split: k, left: halves(i, k - 1), right: halves(k, j) };
}

/** The worst-case cost of a shape: tests on the way down plus the leaf's weight. */
export function worst(s: Shape, weights: readonly number[]): number {
  return 'leaf' in s ? weights[s.leaf]! : 1 + Math.max(worst(s.left, weights), worst(s.right, weights));
}
