/** deSEC's URL patterns (all paths end with `/`; `/api/v1/` and `/api/v2/` are the same). */

export type DesecRoute =
  | { kind: 'domains' }
  | { kind: 'domain'; domain: string }
  | { kind: 'rrsets'; domain: string }
  | { kind: 'rrset'; domain: string; subname: string; type: string };

const BASE = /^\/api\/v[12]\//;

/** The subname of a detail path segment: `@` and `…...` are apex forms. */
function pathSubname(segment: string): string {
  if (segment === '@') return '';
  return segment.endsWith('...') ? segment.slice(0, -3) : segment;
}

/** The route of `pathname`, or undefined (404). */
export function matchDesecRoute(pathname: string): DesecRoute | undefined {
  if (!BASE.test(pathname) || !pathname.endsWith('/')) return undefined;
  const parts = pathname.replace(BASE, '').slice(0, -1).split('/').map(decodeURIComponent);
  const [first, domain, third, subname, type] = parts;
  if (first !== 'domains') return undefined;
  if (parts.length === 1) return { kind: 'domains' };
  if (domain === undefined || domain === '') return undefined;
  if (parts.length === 2) return { kind: 'domain', domain };
  if (third !== 'rrsets') return undefined;
  if (parts.length === 3) return { kind: 'rrsets', domain };
  if (parts.length === 5 && subname !== undefined && type !== undefined && type !== '')
    return { kind: 'rrset', domain, subname: pathSubname(subname), type };
  return undefined;
}
