import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { createRoutes, openApiDocument, type Coordination } from '@chorus/serve';
import type { EventLog, ZoneEvent } from '@chorus/core';

const document = openApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
};
const routes = createRoutes({
  log: {} as EventLog<ZoneEvent>,
  path: 'unused',
  coordination: {} as Coordination,
});

describe('openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toMatch(/^3\.1\./);
  });

  it('documents every route of the router table, and nothing else', () => {
    const documented = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const routed = routes.map((route) => `${route.method} ${route.path}`);
    expect(documented.sort()).toEqual(routed.sort());
  });

  it('says which routes need no token', () => {
    for (const route of routes) {
      const operation = document.paths[route.path]![route.method.toLowerCase()] as {
        security: unknown[];
      };
      expect(operation.security.length === 0).toBe(route.role === null);
    }
  });
});
