/** A small route table: method, path pattern (`/v1/zones/{zone}`), the role it needs, its handler. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Role } from './tokens.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  /** The token's name; undefined on routes that need no token. */
  caller: string | undefined;
  /** The token's role; undefined on routes that need no token. */
  callerRole: Role | undefined;
  request: IncomingMessage;
  response: ServerResponse;
}

/**
 * What a handler answers: a status and a JSON body; a file's bytes and type (the web page, a
 * picture); or nothing when it wrote the response itself.
 */
export type HandlerResult =
  | { status: number; body: unknown }
  | { status: number; raw: string; contentType: string }
  | undefined;

export interface Route {
  method: Method;
  path: string;
  /** The least role that may call it; null: no token needed. */
  role: Role | null;
  handler: (context: RequestContext) => Promise<HandlerResult>;
}

export interface RouteMatch {
  route: Route;
  params: Record<string, string>;
}

/** The parameters of `pattern` in `path`, or undefined when it does not match. */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const expected = pattern.split('/');
  const actual = path.split('/');
  if (expected.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (const [index, segment] of expected.entries()) {
    const value = actual[index]!;
    const name = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (name === undefined && segment !== value) return undefined;
    if (name === undefined) continue;
    if (value === '') return undefined;
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return params;
}

/** The route for a request; `pathKnown` tells a wrong method (405) from an unknown path (404). */
export function findRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { match?: RouteMatch; pathKnown: boolean } {
  let pathKnown = false;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (!params) continue;
    pathKnown = true;
    if (route.method === method) return { match: { route, params }, pathKnown };
  }
  return { pathKnown };
}
