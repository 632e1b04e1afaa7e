import { describe, expect, it } from 'vitest';
import { observationStream, zoneStream } from '@chorus/core';
import { parseEventLog, resolveLabConfig } from '../src/config.js';
import { natsAuthConfig, natsServerConfig } from '../src/nats-config.js';
import { CONSUMERS_BUCKET, subjectForStream } from '@chorus/event-log-nats';
import { serverExtensions } from '../src/nats-tls.js';
import { natsUserPermissions, natsUsers, NATS_PROGRAMS } from '../src/nats.js';
import { planLab } from '../src/plan.js';
import { LAB_PROGRAMS } from '../src/server-kinds.js';
import type { LabNatsEventLog, LabStatus, NatsUser } from '../src/types.js';

// No servers: the NATS event log's part of the plan, its subjects, permissions and configs.
const programs = Object.fromEntries(
  [...LAB_PROGRAMS, ...Object.keys(NATS_PROGRAMS)].map((name) => [name, `/usr/sbin/${name}`]),
);

function plan(options: Parameters<typeof resolveLabConfig>[0]): LabStatus {
  return planLab(
    resolveLabConfig({ directory: '/tmp/chorus-nats', addressPrefix: '127.66.0', ...options }),
    programs,
    ['node', 'agent.js'],
  );
}

function natsLog(status: LabStatus): LabNatsEventLog {
  if (status.eventLog.kind !== 'nats') throw new Error('expected the NATS event log');
  return status.eventLog;
}

/** Stream-administration subjects no client but admin may publish to. */
const STREAM_ADMIN = ['CHORUS', `KV_${CONSUMERS_BUCKET}`].flatMap((stream) =>
  ['CREATE', 'UPDATE', 'DELETE', 'PURGE', 'MSG.DELETE'].map(
    (action) => `$JS.API.STREAM.${action}.${stream}`,
  ),
);

/** The KV key where a durable consumer's position is committed. */
const commit = (consumer: string) =>
  `$KV.${CONSUMERS_BUCKET}.${Buffer.from(consumer).toString('base64url')}`;

/** NATS subject matching: `*` one token, `>` the rest (at least one token). */
function matches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (const [index, token] of want.entries()) {
    if (token === '>') return have.length > index;
    if (index >= have.length || (token !== '*' && token !== have[index])) return false;
  }
  return want.length === have.length;
}

function mayPublish(permissions: { publish: string[] } | null, subject: string): boolean {
  return permissions === null || permissions.publish.some((pattern) => matches(pattern, subject));
}

describe('the event-log option', () => {
  it('is SQLite by default, at the demo’s file', () => {
    const status = plan({});
    expect(status.eventLog).toEqual({
      kind: 'sqlite',
      path: '/tmp/chorus-nats/demo/events.sqlite',
    });
  });

  it('reads sqlite or nats, and names the choices otherwise', () => {
    expect(parseEventLog('NATS')).toBe('nats');
    expect(parseEventLog(' sqlite ')).toBe('sqlite');
    expect(() => parseEventLog('kafka')).toThrow(/expected sqlite or nats/);
    expect(() => resolveLabConfig({ eventLog: 'redis' as never })).toThrow(/unknown event log/);
  });
});

describe('the NATS cluster in the plan', () => {
  const status = plan({ eventLog: 'nats', providers: ['desec'] });
  const log = natsLog(status);

  it('has three nodes on free addresses of the prefix, TLS client URLs and a stream', () => {
    expect(
      log.nodes.map((node) => [node.id, node.address, node.clientPort, node.clusterPort]),
    ).toEqual([
      ['nats-1', '127.66.0.71', 4222, 6222],
      ['nats-2', '127.66.0.72', 4222, 6222],
      ['nats-3', '127.66.0.73', 4222, 6222],
    ]);
    expect(log.servers).toEqual([
      'tls://127.66.0.71:4222',
      'tls://127.66.0.72:4222',
      'tls://127.66.0.73:4222',
    ]);
    expect(log).toMatchObject({
      caFile: '/tmp/chorus-nats/nats/tls/ca.crt',
      streamName: 'CHORUS',
      subjectPrefix: 'chorus.log.',
      replicas: 3,
      clusterName: 'chorus',
      authFile: '/tmp/chorus-nats/nats/auth.conf',
    });
    expect(log.nodes[1]).toMatchObject({
      binary: '/usr/sbin/nats-server',
      monitorUrl: 'http://127.66.0.72:8222/',
      configFile: '/tmp/chorus-nats/nats/nats-2/nats.conf',
      logFile: '/tmp/chorus-nats/nats/nats-2/nats.log',
      storeDir: '/tmp/chorus-nats/nats/nats-2/store',
      pid: 0,
    });
    const taken = [
      ...status.servers,
      ...status.resolvers,
      ...(status.registryAgent ? [status.registryAgent] : []),
    ].map((entry) => entry.address);
    for (const node of log.nodes) expect(taken).not.toContain(node.address);
  });

  it('has a credentials file per user: admin, each sidecar that runs, operator, observer', () => {
    expect(log.credentialsFiles).toEqual({
      admin: '/tmp/chorus-nats/nats/credentials/admin.creds',
      bind: '/tmp/chorus-nats/nats/credentials/bind.creds',
      powerdns: '/tmp/chorus-nats/nats/credentials/powerdns.creds',
      knot: '/tmp/chorus-nats/nats/credentials/knot.creds',
      desec: '/tmp/chorus-nats/nats/credentials/desec.creds',
      operator: '/tmp/chorus-nats/nats/credentials/operator.creds',
      observer: '/tmp/chorus-nats/nats/credentials/observer.creds',
    });
    expect(natsUsers({ providers: [] })).toEqual([
      'admin',
      'bind',
      'powerdns',
      'knot',
      'operator',
      'observer',
    ]);
  });

  it('needs nats-server only when asked for, naming its Debian package', () => {
    expect(LAB_PROGRAMS).not.toContain('nats-server');
    expect(NATS_PROGRAMS).toEqual({ 'nats-server': 'nats-server', openssl: 'openssl' });
  });
});

describe('subjects', () => {
  it('are the event-log backend’s: the prefix plus base64url of the stream name', () => {
    const log = natsLog(plan({ eventLog: 'nats' }));
    const name = 'zone/example.test.';
    expect(subjectForStream(name)).toBe(
      `${log.subjectPrefix}${Buffer.from(name).toString('base64url')}`,
    );
    expect(log.subjectPrefix).toBe('chorus.log.');
  });
});

describe('permissions', () => {
  const status = plan({ eventLog: 'nats', providers: ['ns1'] });
  const users = Object.keys(natsLog(status).credentialsFiles) as NatsUser[];
  const of = (user: NatsUser) => natsUserPermissions(user, status, users);
  const zone = (name: string) => subjectForStream(zoneStream(name));
  const observations = (name: string) => subjectForStream(observationStream(name));

  it('let a sidecar append to its own zones’ zone and observation streams only', () => {
    const powerdns = of('powerdns');
    expect(mayPublish(powerdns, zone('example.test.'))).toBe(true);
    expect(mayPublish(powerdns, observations('example.test.'))).toBe(true);
    expect(mayPublish(powerdns, zone('broken.test.'))).toBe(false);
    expect(mayPublish(powerdns, zone('other.test.'))).toBe(false);
    // The BIND signer also serves broken.test., Knot csk.test.
    expect(mayPublish(of('bind'), zone('broken.test.'))).toBe(true);
    expect(mayPublish(of('knot'), zone('csk.test.'))).toBe(true);
    expect(mayPublish(of('ns1'), zone('example.test.'))).toBe(true);
    expect(mayPublish(of('ns1'), zone('csk.test.'))).toBe(false);
  });

  it('let the operator append to every stream and the observer to observations only', () => {
    expect(mayPublish(of('operator'), zone('anything.example.'))).toBe(true);
    expect(mayPublish(of('observer'), observations('example.test.'))).toBe(true);
    expect(mayPublish(of('observer'), observations('csk.test.'))).toBe(true);
    expect(mayPublish(of('observer'), zone('example.test.'))).toBe(false);
  });

  it('let every client read through consumers, and no client but admin manage the stream', () => {
    expect(of('admin')).toBeNull();
    for (const user of users.filter((entry) => entry !== 'admin')) {
      const permissions = of(user)!;
      expect(permissions.subscribe, user).toEqual(['_INBOX.>']);
      for (const subject of STREAM_ADMIN)
        expect(mayPublish(permissions, subject), `${user} ${subject}`).toBe(false);
      for (const subject of [
        '$JS.API.STREAM.INFO.CHORUS',
        '$JS.API.CONSUMER.CREATE.CHORUS.reader',
        '$JS.API.CONSUMER.MSG.NEXT.CHORUS.reader',
      ])
        expect(mayPublish(permissions, subject), `${user} ${subject}`).toBe(true);
      expect(permissions.publish, user).not.toContain('>');
    }
  });

  it('let each user commit the durable consumer named after it, and no other', () => {
    expect(mayPublish(of('bind'), commit('bind'))).toBe(true);
    expect(mayPublish(of('bind'), commit('knot'))).toBe(false);
    expect(mayPublish(of('observer'), commit('observer'))).toBe(true);
    expect(mayPublish(of('operator'), commit('bind'))).toBe(false);
  });
});

describe('the node and auth configs', () => {
  const status = plan({ eventLog: 'nats' });
  const log = natsLog(status);
  const [first, ...peers] = log.nodes;

  it('make a node listen on its address, require TLS, route with mutual TLS to its peers', () => {
    const config = natsServerConfig({
      node: first!,
      clusterName: 'chorus',
      peers,
      tls: {
        caFile: '/tmp/chorus-nats/nats/tls/ca.crt',
        certFile: '/tmp/chorus-nats/nats/tls/server.crt',
        keyFile: '/tmp/chorus-nats/nats/tls/server.key',
      },
      authInclude: '../auth.conf',
    });
    expect(config).toContain('server_name: "nats-1"');
    expect(config).toContain('listen: "127.66.0.71:4222"');
    expect(config).toContain('http: "127.66.0.71:8222"');
    expect(config).toContain(
      'routes: ["nats-route://127.66.0.72:6222", "nats-route://127.66.0.73:6222"]',
    );
    expect(config).toContain('verify: true');
    expect(config).toContain('store_dir: "/tmp/chorus-nats/nats/nats-1/store"');
    expect(config).toContain('include "../auth.conf"');
    expect(config).not.toMatch(/password|user:/);
  });

  it('put bcrypt hashes and permissions, never a password, into the auth file', () => {
    const auth = natsAuthConfig([
      { user: 'admin', passwordHash: '$2b$10$hash', permissions: null },
      {
        user: 'bind',
        passwordHash: '$2b$10$other',
        permissions: { publish: ['chorus.log.X', '$JS.API.INFO'], subscribe: ['_INBOX.>'] },
      },
    ]);
    expect(auth).toContain('jetstream: enabled');
    expect(auth).toContain('{ user: "admin", password: "$2b$10$hash" }');
    expect(auth).toContain('publish: { allow: ["chorus.log.X", "$JS.API.INFO"] }');
    expect(auth).toContain('subscribe: { allow: ["_INBOX.>"] }');
  });

  it('name the node addresses in the server certificate', () => {
    expect(serverExtensions(log.nodes.map((node) => node.address))).toContain(
      'subjectAltName=IP:127.66.0.71,IP:127.66.0.72,IP:127.66.0.73,DNS:localhost',
    );
  });
});
