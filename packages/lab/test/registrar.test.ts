import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRegistrarFakeConfig, REGISTRAR_RATE_LIMITS } from '@chorus/provider-fakes';
import { parseRateLimits, resolveLabConfig } from '../src/config.js';
import { planLab } from '../src/plan.js';
import { prepareRegistrar, registrarEntry, registrarFakeConfig } from '../src/registrar.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';

// No servers: the fake registrar's part of the plan, its files and its config.
const programs = Object.fromEntries(LAB_PROGRAMS.map((name) => [name, `/usr/sbin/${name}`]));

function plan(options: Parameters<typeof resolveLabConfig>[0]) {
  return planLab(
    resolveLabConfig({
      directory: '/tmp/chorus-registrar-plan',
      addressPrefix: '127.66.0',
      zones: ['example.test', 'other.test'],
      ...options,
    }),
    programs,
    ['node', 'agent.js'],
  );
}

describe('the lab with the fake registrar', () => {
  it('plans it on its own address with its files, for an account holding the lab zones', () => {
    const status = plan({ registrar: true });
    expect(status.registrar).toMatchObject({
      id: 'registrar',
      software: 'node',
      pid: 0,
      url: 'http://127.66.0.61:8000/v1/',
      address: '127.66.0.61',
      port: 8000,
      directory: '/tmp/chorus-registrar-plan/registrar',
      tokenFile: '/tmp/chorus-registrar-plan/registrar/api.token',
      adminTokenFile: '/tmp/chorus-registrar-plan/registrar/admin.token',
      requestLogFile: '/tmp/chorus-registrar-plan/registrar/requests.jsonl',
      parentZone: 'test.',
      domains: ['example.test.', 'other.test.'],
      rateLimits: REGISTRAR_RATE_LIMITS,
    });
    // The token is in a file only: never on the command line.
    expect(status.registrar!.arguments).toEqual([
      expect.stringMatching(/provider-fakes\/dist\/main\.js$/),
      '--config',
      '/tmp/chorus-registrar-plan/registrar/fake.json',
    ]);
  });

  it('has none by default', () => {
    expect(plan({}).registrar).toBeNull();
  });

  it('takes its rate from --rate-limit registrar.api=N/DURATION', () => {
    const rateLimits = parseRateLimits('registrar.api=5/1m, ns1.write=10/60s');
    expect(rateLimits.registrar).toEqual({ api: { limit: 5, periodSeconds: 60 } });
    expect(plan({ registrar: true, rateLimits }).registrar!.rateLimits).toEqual({
      api: { limit: 5, periodSeconds: 60 },
    });
    expect(() => parseRateLimits('registrar.api=1/1s+5/1m')).toThrow(/one rate/);
  });

  it('writes a config the fake reads, naming the parent and its TSIG key file', () => {
    const status = plan({ registrar: true });
    const config = parseRegistrarFakeConfig(registrarFakeConfig(status.registrar!, status));
    const parent = status.servers.find((server) => server.id === 'parent')!;
    expect(config).toMatchObject({
      listen: { address: '127.66.0.61', port: 8000 },
      parent: {
        zone: 'test.',
        servers: [{ address: parent.address, port: parent.port }],
        tsigKeyFile: parent.tsig.keyFile,
      },
      domains: ['example.test.', 'other.test.'],
      ttl: status.ttl,
    });
  });

  it('prepares its directory with tokens only its owner reads', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'chorus-registrar-files-'));
    try {
      const status = plan({ registrar: true });
      const entry = registrarEntry({
        directory: path.join(directory, 'registrar'),
        address: '127.66.0.245',
        domains: ['example.test.'],
      });
      await prepareRegistrar(entry, status);
      for (const file of [entry.tokenFile, entry.adminTokenFile])
        expect((await stat(file)).mode & 0o777).toBe(0o600);
      const token = (await readFile(entry.tokenFile, 'utf8')).trim();
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      const written = await readFile(entry.configFile, 'utf8');
      expect(written).not.toContain(token);
      expect(JSON.parse(written)).toMatchObject({ listen: { address: '127.66.0.245' } });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
