/** The API's route table; `openapi.json` documents exactly these (a test checks both ways). */
import { readFileSync } from 'node:fs';
import type { ServedLog } from './coordination.js';
import { createHandlers } from './handlers.js';
import type { Route } from './router.js';
import { pageHandlers } from './ui.js';

/** The OpenAPI 3.1 document, read once from the package (beside src/ and dist/). */
export function openApiDocument(): unknown {
  return JSON.parse(readFileSync(new URL('../openapi.json', import.meta.url), 'utf8'));
}

export function createRoutes(served: ServedLog, tokensFile = ''): Route[] {
  const handlers = createHandlers(served, tokensFile);
  const document = openApiDocument();
  const zone = '/v1/zones/{zone}';
  return [
    {
      method: 'GET',
      path: '/openapi.json',
      role: null,
      handler: () => Promise.resolve({ status: 200, body: document }),
    },
    { method: 'GET', path: '/', role: null, handler: pageHandlers.index },
    { method: 'GET', path: '/ui/{file}', role: null, handler: pageHandlers.file },
    { method: 'GET', path: '/v1/whoami', role: 'viewer', handler: handlers.whoami },
    { method: 'GET', path: '/v1/tokens', role: 'admin', handler: handlers.tokens },
    { method: 'GET', path: '/v1/zones', role: 'viewer', handler: handlers.zones },
    { method: 'GET', path: zone, role: 'viewer', handler: handlers.zone },
    { method: 'GET', path: '/v1/groups', role: 'viewer', handler: handlers.groups },
    { method: 'GET', path: '/v1/groups/{group}', role: 'viewer', handler: handlers.group },
    { method: 'GET', path: `${zone}/events`, role: 'viewer', handler: handlers.events },
    { method: 'GET', path: `${zone}/stats`, role: 'viewer', handler: handlers.stats },
    { method: 'GET', path: `${zone}/signers`, role: 'viewer', handler: handlers.signers },
    { method: 'GET', path: `${zone}/audit`, role: 'viewer', handler: handlers.audit },
    {
      method: 'GET',
      path: `${zone}/observations`,
      role: 'viewer',
      handler: handlers.observations,
    },
    {
      method: 'POST',
      path: `${zone}/processes`,
      role: 'operator',
      handler: handlers.requestProcess,
    },
    { method: 'GET', path: `${zone}/processes/{id}`, role: 'viewer', handler: handlers.process },
    {
      method: 'GET',
      path: `${zone}/processes/{id}/timeline.svg`,
      role: 'viewer',
      handler: handlers.timeline,
    },
    {
      method: 'GET',
      path: `${zone}/processes/{id}/progress`,
      role: 'viewer',
      handler: handlers.progress,
    },
    { method: 'POST', path: `${zone}/stop`, role: 'operator', handler: handlers.stop },
    { method: 'POST', path: `${zone}/undo`, role: 'operator', handler: handlers.undo },
  ];
}
