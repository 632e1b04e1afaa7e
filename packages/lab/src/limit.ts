/**
 * Bounded fan-out for lab preparation: with thousands of zones, one promise per zone at once would
 * spawn thousands of key generators or open more files than the process may.
 */
import { availableParallelism } from 'node:os';

/** Files written at once. */
export const FILE_WRITES_AT_ONCE = 64;

/** Key-generating programs run at once: one per core, and one more waiting on its disk. */
export const TOOLS_AT_ONCE = availableParallelism() + 1;

/** `items.map(work)` with at most `limit` calls pending; results keep the order of `items`. */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
