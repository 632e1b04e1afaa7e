import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '@chorus/core';
import {
  createEventKeyFile,
  loadEventKey,
  loadSidecarConfig,
  parseSidecarConfig,
} from '@chorus/sidecar';

const scratchDirectories: string[] = [];
async function scratchDirectory(prefix: string): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), prefix));
  scratchDirectories.push(directory);
  return directory;
}
afterAll(async () => {
  await Promise.all(
    scratchDirectories.map((directory) => rm(directory, { recursive: true, force: true })),
  );
});

const valid = {
  id: 'bind',
  eventLog: { kind: 'sqlite', path: 'events.sqlite' },
  signer: { plugin: '@chorus/plugin-bind', config: { tsigKeyFile: '/etc/chorus/bind.key' } },
  zones: ['example.test'],
  nameServerNames: ['ns.bind.test'],
  parent: { zone: 'test', servers: [{ address: '127.53.0.1' }] },
  eventKeyFile: 'bind.key',
  trust: { operators: { alice: 'A'.repeat(43) } },
};

function problem(raw: unknown): string {
  try {
    parseSidecarConfig(raw, 'sidecar.json', '/srv');
  } catch (error) {
    expect(ConfigError.isInstance(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('sidecar configuration', () => {
  it('normalises names and resolves the event log next to the file', () => {
    const config = parseSidecarConfig(valid, 'sidecar.json', '/srv');
    expect(config.zones).toEqual(['example.test.']);
    expect(config.parent).toEqual({
      zone: 'test.',
      servers: [{ address: '127.53.0.1', port: 53 }],
    });
    expect(config.eventLog).toEqual({ kind: 'sqlite', path: '/srv/events.sqlite' });
    expect(config.logLevel).toBe('info');
    expect(config.eventKeyFile).toBe('/srv/bind.key');
    expect(config.trust).toEqual({
      operators: { alice: 'A'.repeat(43) },
      sidecars: {},
      observers: {},
    });
    expect(config.unsafeAllowSkipWaits).toBeUndefined();
  });

  it('needs an event key and a trust anchor naming an operator, and checks every key', () => {
    const bare: Record<string, unknown> = { ...valid };
    delete bare.eventKeyFile;
    delete bare.trust;
    expect(problem({ ...bare, trust: valid.trust })).toMatch(/eventKeyFile/);
    expect(problem({ ...bare, eventKeyFile: 'k' })).toMatch(/trust/);
    expect(problem({ ...valid, trust: { operators: {} } })).toMatch(
      /trust.operators: names no operator/,
    );
    expect(problem({ ...valid, trust: { operators: { alice: 'short' } } })).toMatch(
      /trust.operators.alice: is not an Ed25519 public key/,
    );
    expect(problem({ ...valid, trust: { operators: valid.trust.operators, friends: {} } })).toMatch(
      /trust.friends: unknown key/,
    );
    expect(problem({ ...valid, trust: { file: '/nonexistent/trust.json' } })).toMatch(
      /cannot read \/nonexistent\/trust.json: ENOENT/,
    );
    expect(problem({ ...valid, unsafeAllowSkipWaits: 'yes' })).toMatch(
      /unsafeAllowSkipWaits: must be true or false/,
    );
    expect(parseSidecarConfig({ ...valid, unsafeAllowSkipWaits: true }).unsafeAllowSkipWaits).toBe(
      true,
    );
  });

  it('reads a trust file, and refuses an event key that others may read', async () => {
    const directory = await scratchDirectory('chorus-trust-');
    await writeFile(
      path.join(directory, 'trust.json'),
      JSON.stringify({ operators: { bob: 'B'.repeat(43) } }),
    );
    const config = parseSidecarConfig(
      { ...valid, trust: { file: 'trust.json' } },
      'sidecar.json',
      directory,
    );
    expect(config.trust.operators).toEqual({ bob: 'B'.repeat(43) });
    const keyFile = path.join(directory, 'open.key');
    const publicKey = createEventKeyFile(keyFile);
    expect(loadEventKey(keyFile).publicKey).toBe(publicKey);
    await chmod(keyFile, 0o644);
    expect(() => loadEventKey(keyFile)).toThrow(/readable by others \(mode 644\); chmod 600 it/);
    expect(() => createEventKeyFile(keyFile)).toThrow(/EEXIST/);
  });

  it('names the key of every problem', () => {
    expect(problem({ ...valid, id: 'Bind Server' })).toMatch(
      /^sidecar.json: id: must be lower-case/,
    );
    expect(problem({ ...valid, zones: [] })).toMatch(/zones: must be a non-empty list/);
    expect(problem({ ...valid, zones: ['a..b'] })).toMatch(/zones\[0\]: invalid domain name/);
    expect(problem({ ...valid, eventLog: { kind: 'kafka' } })).toMatch(
      /eventLog.kind: must be "sqlite" or "nats"/,
    );
    expect(problem({ ...valid, eventLog: { kind: 'nats' } })).toMatch(
      /eventLog.servers: must list/,
    );
    expect(
      problem({
        ...valid,
        eventLog: { kind: 'nats', servers: ['tls://u:p@192.0.2.7:4222'], credentialsFile: 'c' },
      }),
    ).toMatch(/credentials go in credentialsFile/);
    expect(
      problem({ ...valid, eventLog: { kind: 'nats', servers: ['tls://192.0.2.7:4222'] } }),
    ).toMatch(/eventLog.credentialsFile: must be a file path/);
    expect(
      parseSidecarConfig(
        {
          ...valid,
          eventLog: {
            kind: 'nats',
            servers: ['tls://192.0.2.7:4222'],
            credentialsFile: 'bind.creds',
            caFile: 'ca.pem',
          },
        },
        'sidecar.json',
        '/srv',
      ).eventLog,
    ).toEqual({
      kind: 'nats',
      servers: ['tls://192.0.2.7:4222'],
      credentialsFile: '/srv/bind.creds',
      caFile: '/srv/ca.pem',
    });
    expect(problem({ ...valid, parent: { zone: 'test', servers: [] } })).toMatch(/parent.servers/);
    expect(problem({ ...valid, keyWatchPerSecond: 0 })).toMatch(/keyWatchPerSecond/);
    expect(
      parseSidecarConfig({ ...valid, keyWatchPerSecond: 200 }, 'sidecar.json', '/srv')
        .keyWatchPerSecond,
    ).toBe(200);
    expect(
      problem({
        ...valid,
        parent: { zone: 'test', servers: [{ address: '127.0.0.1', port: 70000 }] },
      }),
    ).toMatch(/parent.servers\[0\].port/);
    const notify = { zone: 'test', servers: [{ address: '127.0.0.1' }] };
    expect(
      parseSidecarConfig({ ...valid, parent: { ...notify, notify: [{ address: '127.0.0.9' }] } })
        .parent.notify,
    ).toEqual([{ address: '127.0.0.9', port: 53 }]);
    expect(parseSidecarConfig(valid).parent.notify).toBeUndefined();
    expect(
      problem({ ...valid, parent: { ...notify, notify: [{ address: 'scanner.example' }] } }),
    ).toMatch(/parent.notify\[0\].address/);
    for (const setting of ['dsync', 'off'])
      expect(
        parseSidecarConfig({ ...valid, parent: { ...notify, notify: setting } }).parent.notify,
      ).toBe(setting);
    expect(problem({ ...valid, parent: { ...notify, notify: 'always' } })).toMatch(
      /parent.notify: must be "dsync", "off" or a list of addresses, got "always"/,
    );
    expect(problem({ ...valid, parent: { ...notify, notify: [] } })).toMatch(/parent.notify/);
    const registrar = {
      url: 'http://127.53.0.20:8443/v1/',
      tokenFile: '/etc/chorus/registrar.token',
    };
    expect(
      parseSidecarConfig({ ...valid, parent: { ...notify, registrar } }).parent.registrar,
    ).toEqual({ url: 'http://127.53.0.20:8443/v1', tokenFile: '/etc/chorus/registrar.token' });
    expect(
      problem({
        ...valid,
        parent: { ...notify, registrar: { ...registrar, url: 'http://registrar.example/v1' } },
      }),
    ).toMatch(/parent.registrar.url: must use https/);
    expect(
      problem({
        ...valid,
        parent: {
          ...notify,
          registrar: { ...registrar, url: 'https://u:secret@registrar.example/v1' },
        },
      }),
    ).toMatch(/parent.registrar.url: must not contain credentials; the token goes in tokenFile/);
    expect(
      problem({
        ...valid,
        parent: {
          ...notify,
          registrar: { ...registrar, url: 'https://u:secret@registrar.example/v1' },
        },
      }),
    ).not.toContain('secret');
    expect(problem({ ...valid, parent: { ...notify, registrar: { url: registrar.url } } })).toMatch(
      /parent.registrar.tokenFile/,
    );
    expect(problem({ ...valid, logLevel: 'loud' })).toMatch(/logLevel/);
    expect(problem({ ...valid, tsigSecret: 'x' })).toMatch(/tsigSecret: is not a known setting/);
  });

  it('expands ${env:NAME} and never prints the value when something is wrong', () => {
    process.env.CHORUS_TEST_LOG_PATH = '/var/lib/chorus/events.sqlite';
    const config = parseSidecarConfig({
      ...valid,
      eventLog: { kind: 'sqlite', path: '${env:CHORUS_TEST_LOG_PATH}' },
    });
    expect(config.eventLog).toEqual({ kind: 'sqlite', path: '/var/lib/chorus/events.sqlite' });
    delete process.env.CHORUS_TEST_MISSING;
    expect(
      problem({
        ...valid,
        signer: { plugin: 'x', config: { apiKey: '${env:CHORUS_TEST_MISSING}' } },
      }),
    ).toMatch(/signer.config.apiKey: environment variable CHORUS_TEST_MISSING is not set/);
  });

  it('reports an unreadable or malformed file clearly', async () => {
    const directory = await scratchDirectory('chorus-config-');
    await expect(loadSidecarConfig(path.join(directory, 'missing.json'))).rejects.toThrow(
      /cannot read .*missing.json: ENOENT/,
    );
    const broken = path.join(directory, 'broken.json');
    await writeFile(broken, '{ "id": ');
    await expect(loadSidecarConfig(broken)).rejects.toThrow(/broken.json is not valid JSON/);
  });
});

describe('sidecar observers', () => {
  const trustAnchor = ['12345 13 2 ' + 'ab'.repeat(32)];
  const withObservers = (observers: unknown) => ({ ...valid, observers });

  it('parses the consistency and validation observers, with defaults', () => {
    const config = parseSidecarConfig(
      withObservers({
        consistency: {},
        validation: {
          trustAnchor,
          resolvers: [
            { id: 'r1', address: '127.53.0.50' },
            { id: 'r2', address: '127.53.0.51', port: 5300, pinnedTo: 'bind' },
          ],
        },
      }),
    );
    expect(config.observers?.consistency).toEqual({ intervalMs: 1000, mode: 'always' });
    expect(config.observers?.validation?.trustAnchor).toEqual([
      { keyTag: 12345, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) },
    ]);
    expect(config.observers?.validation?.resolvers).toEqual([
      { id: 'r1', server: { address: '127.53.0.50', port: 53 } },
      { id: 'r2', server: { address: '127.53.0.51', port: 5300 }, pinnedTo: 'bind' },
    ]);
    expect(parseSidecarConfig(valid).observers).toBeUndefined();
  });

  it('takes the trust anchor as bare rdata or as the DS line `lab status` prints', () => {
    const digest = 'ab'.repeat(32);
    const expected = { keyTag: 12345, algorithm: 13, digestType: 2, digest: digest.toUpperCase() };
    for (const entry of [
      `12345 13 2 ${digest}`,
      `test. 10 IN DS 12345 13 2 ${digest}`,
      `test. IN DS 12345 13 2 ${digest}`,
      `TEST. 3600 DS 12345 13 2 ${digest}`,
    ]) {
      const config = parseSidecarConfig(withObservers({ validation: { trustAnchor: [entry] } }));
      expect(config.observers?.validation?.trustAnchor).toEqual([expected]);
    }
  });

  it('refuses a malformed trust anchor, or the DS of another zone, naming the entry', () => {
    const digest = 'ab'.repeat(32);
    for (const entry of [
      `test. 10 IN DS 12345 13 2`,
      `test. 10 IN DS 12345 13 two ${digest}`,
      `12345 13 2`,
      `test. 10 IN DNSKEY 257 3 13 AAAA`,
    ])
      expect(problem(withObservers({ validation: { trustAnchor: [entry] } }))).toMatch(
        /observers.validation.trustAnchor\[0\]: not a DS record/,
      );
    expect(
      problem(
        withObservers({ validation: { trustAnchor: [`other. 10 IN DS 12345 13 2 ${digest}`] } }),
      ),
    ).toMatch(/trustAnchor\[0\]: is the DS of other\., but parent.zone is test\./);
  });

  it('names the key of every observer problem', () => {
    expect(problem(withObservers({ tracing: {} }))).toMatch(
      /observers.tracing: is not a known setting/,
    );
    expect(problem(withObservers({ consistency: { intervalMs: 5 } }))).toMatch(
      /observers.consistency.intervalMs: must be an integer of milliseconds/,
    );
    expect(problem(withObservers({ consistency: { mode: 'sometimes' } }))).toMatch(
      /observers.consistency.mode: must be "always" or "during-process"/,
    );
    expect(problem(withObservers({ validation: {} }))).toMatch(
      /observers.validation.trustAnchor: must be a non-empty list of DS records/,
    );
    expect(problem(withObservers({ validation: { trustAnchor: ['not a ds'] } }))).toMatch(
      /observers.validation.trustAnchor\[0\]: not a DS record/,
    );
    expect(
      problem(withObservers({ validation: { trustAnchor, resolvers: [{ id: 'r1' }] } })),
    ).toMatch(/observers.validation.resolvers\[0\].address/);
  });

  it('builds one set of observers per zone, recording to the event log, and none when not asked', async () => {
    const { createSidecarObservers } = await import('@chorus/sidecar');
    const { createMemoryEventLog } = await import('@chorus/event-log-sqlite');
    const { pino } = await import('pino');
    const log = createMemoryEventLog<never>();
    const logger = pino({ level: 'silent' });
    const config = parseSidecarConfig({
      ...withObservers({ consistency: { intervalMs: 1000 }, validation: { trustAnchor } }),
      zones: ['a.test', 'b.test'],
    });
    const built = createSidecarObservers(config, log, logger);
    expect(built.observers.map((observer) => observer.name)).toEqual([
      'zone-observers:a.test.',
      'zone-observers:b.test.',
    ]);
    for (const observer of built.observers) await observer.shutdown?.();
    expect(createSidecarObservers(parseSidecarConfig(valid), log, logger).observers).toEqual([]);
  });
});
