/**
 * NS1's pagination of a zone's records (provider-apis.md §2.1): records beyond one page continue
 * on the page that `Link: <…>; rel="next"` names, and every page is the whole zone object with
 * its slice of `records` (what ns1-go's `nextRecords` reads). The page size and the `after`
 * parameter are [inferred]: clients only follow the link.
 */
import { invalidInput } from './answers.js';

/** Records per page of `GET /v1/zones/{zone}` [inferred, like the 5 000 zones of a zone list]. */
export const RECORD_PAGE_SIZE = 5000;

function encodeAfter(offset: number): string {
  return Buffer.from(`o=${offset}`).toString('base64url');
}

function decodeAfter(after: string | null): number {
  if (after === null) return 0;
  const match = /^o=(\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  if (!match) throw invalidInput(`Value ${JSON.stringify(after)} for field 'after' is invalid`);
  return Number(match[1]);
}

/** The records of the page `url` asks for, and the `Link` header when more follow. */
export function recordPage<T>(
  records: readonly T[],
  url: URL,
  pageSize: number,
): { records: T[]; headers: Record<string, string> } {
  const offset = decodeAfter(url.searchParams.get('after'));
  const page = records.slice(offset, offset + pageSize);
  if (offset + pageSize >= records.length) return { records: page, headers: {} };
  const next = new URL(url);
  next.searchParams.set('after', encodeAfter(offset + pageSize));
  return { records: page, headers: { Link: `<${next.toString()}>; rel="next"` } };
}
