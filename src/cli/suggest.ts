// "Did you mean …?" for unknown commands and flags: the nearest candidate by
// edit distance, offered only when it is close enough to be a likely typo.

/** Levenshtein distance with one rolling row (inputs are short words). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The closest candidate, or undefined when none is within a typo's reach. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    // A prefix ("cust" for "customer") is a strong hint whatever its length.
    const d = c.startsWith(w) && w.length >= 2 ? 1 : editDistance(w, c.toLowerCase());
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  const reach = Math.max(2, Math.floor(w.length / 3));
  return bestDist <= reach ? best : undefined;
}
