/**
 * Process-wide counts of the calls made to servers: commands run (rndc, pdnsutil, knotc…), HTTP
 * requests and their error statuses, DNS queries, UPDATEs and retries. For benchmarks and for an
 * operator's `kill -USR2` on a sidecar. Keys are low-cardinality words, never zones or secrets.
 */
const counts = new Map<string, number>();

/** Adds one (or `n`) to the count of `what`, e.g. `command rndc` or `http 500`. */
export function countCall(what: string, n = 1): void {
  counts.set(what, (counts.get(what) ?? 0) + n);
}

/** The counts so far, sorted by key. */
export function callTally(): Record<string, number> {
  return Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/** The difference `after − before` of two tallies, without zero entries. */
export function tallyDifference(
  after: Readonly<Record<string, number>>,
  before: Readonly<Record<string, number>>,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([key, value]) => [key, value - (before[key] ?? 0)] as const)
      .filter(([, value]) => value !== 0),
  );
}
