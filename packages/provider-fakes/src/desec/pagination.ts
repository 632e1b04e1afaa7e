/**
 * deSEC's cursor pagination (DRF `LinkHeaderCursorPagination`): up to `pageSize` items as a plain
 * list; more without `cursor` → 400 with a `first` link; with `cursor` → one page and
 * first/prev/next links (absolute URLs). The cursor is opaque to clients; here it encodes an offset.
 */
import { HttpError } from '../errors.js';
import type { ApiResponse } from '../provider-api.js';

function encodeCursor(offset: number): string {
  return Buffer.from(`o=${offset}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  if (cursor === '') return 0;
  const match = /^o=(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new HttpError(404, { detail: 'Invalid cursor' });
  return Number(match[1]);
}

function linkTo(url: URL, cursor: string, rel: string): string {
  const target = new URL(url);
  target.searchParams.set('cursor', cursor);
  return `<${target.toString()}>; rel="${rel}"`;
}

/** The response for a list of `items` at `url`. */
export function paginate(items: readonly unknown[], url: URL, pageSize: number): ApiResponse {
  const cursor = url.searchParams.get('cursor');
  if (cursor === null) {
    if (items.length <= pageSize) return { status: 200, body: items };
    throw new HttpError(
      400,
      {
        detail: `Pagination required. You can query up to ${pageSize} items at a time (${items.length} total). Please use the \`first\` page link (see Link header).`,
      },
      { Link: linkTo(url, '', 'first') },
    );
  }
  const offset = decodeCursor(cursor);
  const links = [linkTo(url, '', 'first')];
  if (offset > 0) links.push(linkTo(url, encodeCursor(Math.max(0, offset - pageSize)), 'prev'));
  if (offset + pageSize < items.length)
    links.push(linkTo(url, encodeCursor(offset + pageSize), 'next'));
  return {
    status: 200,
    body: items.slice(offset, offset + pageSize),
    headers: { Link: links.join(', ') },
  };
}
