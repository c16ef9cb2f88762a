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

/** Above this many leaves the O(n³) search gives way to plain halving. */
const EXACT_LIMIT = 400;

export function shape(weights: readonly number[]): Shape {
  const n = weights.length;
  if (n > EXACT_LIMIT) return halves(0, n - 1);
  // cost[i][j], best[i][j]: for leaves i..j.
  const cost = Array.from({ length: n }, () => new Float64Array(n));
  const best = Array.from({ length: n }, () => new Int32Array(n));
  for (let i = 0; i < n; i++) cost[i]![i] = weights[i]!;
  for (let len = 2; len <= n; len++) {
    for (let i = 0; i + len - 1 < n; i++) {
      const j = i + len - 1;
      let bestCost = Infinity;
      let bestK = -1;
      let bestSkew = Infinity;
      for (let k = i + 1; k <= j; k++) {
        const c = 1 + Math.max(cost[i]![k - 1]!, cost[k]![j]!);
        const skew = Math.abs((k - i) - (j - k + 1));
        if (c < bestCost || (c === bestCost && skew < bestSkew)) {
          bestCost = c;
          bestK = k;
          bestSkew = skew;
        }
      }
      cost[i]![j] = bestCost;
      best[i]![j] = bestK;
    }
  }
  const build = (i: number, j: number): Shape => {
    if (i === j) return { leaf: i };
    const k = best[i]![j]!;
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
