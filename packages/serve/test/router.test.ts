import { describe, expect, it } from 'vitest';
import { findRoute, matchPath, type Route } from '@chorus/serve';

const handler = () => Promise.resolve(undefined);
const routes: Route[] = [
  { method: 'GET', path: '/v1/zones/{zone}', role: 'viewer', handler },
  { method: 'POST', path: '/v1/zones/{zone}/processes', role: 'operator', handler },
  { method: 'GET', path: '/v1/zones/{zone}/processes/{id}', role: 'viewer', handler },
];

describe('router', () => {
  it('matches parameters, decoded', () => {
    expect(matchPath('/v1/zones/{zone}', '/v1/zones/example.test.')).toEqual({
      zone: 'example.test.',
    });
    expect(matchPath('/v1/zones/{zone}/processes/{id}', '/v1/zones/a.%20b./processes/42')).toEqual({
      zone: 'a. b.',
      id: '42',
    });
  });

  it('needs every segment: no empty parameter, no extra or missing segment', () => {
    expect(matchPath('/v1/zones/{zone}', '/v1/zones/')).toBeUndefined();
    expect(matchPath('/v1/zones/{zone}', '/v1/zones/a/b')).toBeUndefined();
    expect(matchPath('/v1/zones/{zone}/processes', '/v1/zones/a')).toBeUndefined();
    expect(matchPath('/v1/zones/{zone}', '/v1/zones/%E0%A4%A')).toBeUndefined();
  });

  it('finds the route by method and path, and tells a wrong method from an unknown path', () => {
    expect(findRoute(routes, 'POST', '/v1/zones/a./processes').match?.route).toBe(routes[1]);
    expect(findRoute(routes, 'GET', '/v1/zones/a./processes/1').match?.params).toEqual({
      zone: 'a.',
      id: '1',
    });
    expect(findRoute(routes, 'DELETE', '/v1/zones/a.')).toEqual({ pathKnown: true });
    expect(findRoute(routes, 'GET', '/v1/other')).toEqual({ pathKnown: false });
  });
});
