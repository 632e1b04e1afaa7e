/**
 * DSYNC discovery (RFC 9859 §4.1): the pure helpers, then discoverDsync against small TCP
 * servers this test opens itself (they stand in for parent nameservers, good and broken). The
 * lab parent's wildcard DSYNC is exercised in the integration tests.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  ParentAnswerError,
  ParentServerUnreachableError,
  type DnsMessage,
  type DnsRecord,
  type DsyncData,
  type NameServer,
} from '@chorus/core';
import { decodeMessage, encodeMessage } from '@chorus/dns';
import {
  discoverDsync,
  dsyncLookupNames,
  selectDsyncTargets,
  type DsyncRecord,
} from '../src/dsync.js';

const CDS_NOTIFY: DsyncData = { rrtype: 'CDS', scheme: 1, port: 5300, target: 'scanner.test.' };
const CSYNC_NOTIFY: DsyncData = {
  rrtype: 'CSYNC',
  scheme: 1,
  port: 5301,
  target: 'scanner.test.',
};

function dsync(data: DsyncData, owner = 'example._dsync.test.', ttl = 300): DsyncRecord {
  return { owner, ttl, data };
}

describe('dsyncLookupNames', () => {
  it('inserts _dsync right above the parent labels, then offers the bare _dsync name', () => {
    expect(dsyncLookupNames('example.test.', 'test.')).toEqual([
      'example._dsync.test.',
      '_dsync.test.',
    ]);
    expect(dsyncLookupNames('a.b.test.', 'test.')).toEqual(['a.b._dsync.test.', '_dsync.test.']);
    expect(dsyncLookupNames('a.b.test.', 'b.test.')).toEqual([
      'a._dsync.b.test.',
      '_dsync.b.test.',
    ]);
  });

  it('makes names absolute and lower-case, and handles the root as parent', () => {
    expect(dsyncLookupNames('Shop.Example', 'EXAMPLE')).toEqual([
      'shop._dsync.example.',
      '_dsync.example.',
    ]);
    expect(dsyncLookupNames('test.', '.')).toEqual(['test._dsync.', '_dsync.']);
  });

  it('refuses a zone that is not strictly below the parent', () => {
    expect(() => dsyncLookupNames('test.', 'test.')).toThrow(ConfigError);
    expect(() => dsyncLookupNames('example.other.', 'test.')).toThrow(
      /example\.other\. is not below the parent zone test\./,
    );
    // A suffix match on text is not a subdomain.
    expect(() => dsyncLookupNames('shoptest.', 'test.')).toThrow(ConfigError);
  });
});

describe('selectDsyncTargets', () => {
  it('keeps one CDS and one CSYNC NOTIFY target', () => {
    const selection = selectDsyncTargets([dsync(CDS_NOTIFY), dsync(CSYNC_NOTIFY)]);
    expect(selection).toEqual({
      targets: [
        {
          type: 'CDS',
          scheme: 1,
          port: 5300,
          target: 'scanner.test.',
          owner: 'example._dsync.test.',
          ttl: 300,
        },
        {
          type: 'CSYNC',
          scheme: 1,
          port: 5301,
          target: 'scanner.test.',
          owner: 'example._dsync.test.',
          ttl: 300,
        },
      ],
      ignored: [],
    });
  });

  it('ignores the null scheme, other schemes, port 0 and types other than CDS and CSYNC', () => {
    const selection = selectDsyncTargets([
      dsync({ ...CDS_NOTIFY, scheme: 0 }),
      dsync({ ...CDS_NOTIFY, scheme: 200 }),
      dsync({ ...CSYNC_NOTIFY, port: 0 }),
      dsync({ ...CDS_NOTIFY, rrtype: 'CDNSKEY' }),
      dsync({ ...CDS_NOTIFY, rrtype: 'TYPE65001' }),
    ]);
    expect(selection.targets).toEqual([]);
    expect(selection.ignored).toEqual([
      {
        record: 'example._dsync.test. 300 IN DSYNC CDS 0 5300 scanner.test.',
        reason: 'scheme 0 is the null scheme, which RFC 9859 says to ignore',
      },
      {
        record: 'example._dsync.test. 300 IN DSYNC CDS 200 5300 scanner.test.',
        reason: 'scheme 200 is not NOTIFY (1), the only scheme Chorus uses',
      },
      {
        record: 'example._dsync.test. 300 IN DSYNC CSYNC NOTIFY 0 scanner.test.',
        reason: 'port 0, which RFC 9859 says to ignore',
      },
      {
        record: 'example._dsync.test. 300 IN DSYNC CDNSKEY NOTIFY 5300 scanner.test.',
        reason: 'CDNSKEY is not a type RFC 9859 notifies about (CDS and CSYNC only)',
      },
      {
        record: 'example._dsync.test. 300 IN DSYNC TYPE65001 NOTIFY 5300 scanner.test.',
        reason: 'TYPE65001 is not a type RFC 9859 notifies about (CDS and CSYNC only)',
      },
    ]);
  });

  it('keeps no target for a (type, scheme) published twice, and still keeps the other type', () => {
    const second = { ...CDS_NOTIFY, target: 'other.test.' };
    const selection = selectDsyncTargets([dsync(CDS_NOTIFY), dsync(CSYNC_NOTIFY), dsync(second)]);
    expect(selection.targets.map((target) => target.type)).toEqual(['CSYNC']);
    expect(selection.ignored).toEqual([
      {
        record: 'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 scanner.test.',
        reason: 'more than one DSYNC for CDS NOTIFY: RFC 9859 allows one',
      },
      {
        record: 'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 other.test.',
        reason: 'more than one DSYNC for CDS NOTIFY: RFC 9859 allows one',
      },
    ]);
  });

  it('does not count records with another scheme as duplicates', () => {
    const selection = selectDsyncTargets([dsync({ ...CDS_NOTIFY, scheme: 0 }), dsync(CDS_NOTIFY)]);
    expect(selection.targets).toHaveLength(1);
    expect(selection.targets[0]).toMatchObject({ type: 'CDS', port: 5300 });
    expect(selection.ignored.map((entry) => entry.reason)).toEqual([
      'scheme 0 is the null scheme, which RFC 9859 says to ignore',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Against local servers

type Handler = (request: DnsMessage) => Partial<DnsMessage> | 'silent';

const servers: net.Server[] = [];
const sockets = new Set<net.Socket>();
const AUTHORITATIVE = { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false };

/** A TCP DNS server on 127.0.0.1 that answers with `handler`, and records what it was asked. */
async function tcpServer(handler: Handler, asked: string[] = []): Promise<NameServer> {
  const server = net.createServer((socket) => {
    sockets.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const length = buffer.readUInt16BE(0);
        const request = decodeMessage(buffer.subarray(2, 2 + length));
        buffer = buffer.subarray(2 + length);
        const question = request.questions[0]!;
        asked.push(`${question.name} ${question.type}`);
        const reply = handler(request);
        if (reply === 'silent') continue;
        const bytes = encodeMessage({
          id: request.id,
          opcode: 'QUERY',
          flags: AUTHORITATIVE,
          rcode: 'NOERROR',
          questions: request.questions,
          answers: [],
          authorities: [],
          additionals: [],
          ...reply,
        });
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(bytes.length);
        socket.write(Buffer.concat([prefix, bytes]));
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { address: '127.0.0.1', port: (server.address() as net.AddressInfo).port };
}

const SOA: DnsRecord = {
  name: 'test.',
  type: 'SOA',
  class: 'IN',
  ttl: 300,
  data: {
    mname: 'ns.test.',
    rname: 'hostmaster.test.',
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum: 60,
  },
};

interface ParentZone {
  /** DSYNC rdata at `*._dsync.test.` (answers any name below `_dsync.test.`). */
  wildcard?: DsyncData[];
  /** DSYNC rdata at `_dsync.test.` itself. */
  bare?: DsyncData[];
  /** Address records by owner. */
  addresses?: Record<string, { A?: string[]; AAAA?: string[] }>;
}

/** A parent server for `test.` that serves `zone` the way BIND would. */
function parentHandler(zone: ParentZone): Handler {
  return (request) => {
    const { name, type } = request.questions[0]!;
    const records = recordsAt(zone, name, type);
    if (records === undefined) return { rcode: 'NXDOMAIN', authorities: [SOA] };
    if (records.length === 0) return { authorities: [SOA] };
    return { answers: records };
  };
}

/** Records of `type` at `name`: undefined when the name does not exist, [] for NODATA. */
function recordsAt(zone: ParentZone, name: string, type: string): DnsRecord[] | undefined {
  const record = (data: unknown): DnsRecord =>
    ({ name, type, class: 'IN', ttl: type === 'DSYNC' ? 300 : 600, data }) as DnsRecord;
  const byType = (sets: Record<string, unknown[] | undefined>) => (sets[type] ?? []).map(record);
  if (name === 'test.') return [];
  if (name === '_dsync.test.') return byType({ DSYNC: zone.bare });
  if (name.endsWith('._dsync.test.') && zone.wildcard !== undefined) {
    return byType({ DSYNC: zone.wildcard });
  }
  const addresses = zone.addresses?.[name];
  return addresses === undefined ? undefined : byType(addresses);
}

const SCANNER = { 'scanner.test.': { A: ['192.0.2.53'], AAAA: ['2001:db8::53'] } };

let wildcardParent: NameServer;
let wildcardAsked: string[];
let bareParent: NameServer;
let bareAsked: string[];
let emptyParent: NameServer;
let emptyAsked: string[];
let outsideTarget: NameServer;
let duplicates: NameServer;
let silent: NameServer;
const silentAsked: string[] = [];
let closed: NameServer;
let servfail: NameServer;
let referral: NameServer;

beforeAll(async () => {
  wildcardAsked = [];
  bareAsked = [];
  emptyAsked = [];
  wildcardParent = await tcpServer(
    parentHandler({ wildcard: [CDS_NOTIFY, CSYNC_NOTIFY], addresses: SCANNER }),
    wildcardAsked,
  );
  bareParent = await tcpServer(
    parentHandler({ bare: [CDS_NOTIFY], addresses: SCANNER }),
    bareAsked,
  );
  emptyParent = await tcpServer(parentHandler({}), emptyAsked);
  outsideTarget = await tcpServer(
    parentHandler({ wildcard: [{ ...CDS_NOTIFY, target: 'scanner.registry.example.' }] }),
  );
  duplicates = await tcpServer(
    parentHandler({
      wildcard: [CDS_NOTIFY, { ...CDS_NOTIFY, port: 5399 }, CSYNC_NOTIFY],
      addresses: SCANNER,
    }),
  );
  silent = await tcpServer(() => 'silent', silentAsked);
  servfail = await tcpServer(() => ({ rcode: 'SERVFAIL' }));
  referral = await tcpServer(() => ({ flags: { ...AUTHORITATIVE, aa: false } }));
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closed = { address: '127.0.0.1', port: (probe.address() as net.AddressInfo).port };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  // The silent server holds connections open; the client's pool would keep them until idle.
  for (const socket of sockets) socket.destroy();
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

function discover(zone: string, parentServers: NameServer[], extra = {}) {
  return discoverDsync(zone, {
    parentZone: 'test.',
    servers: parentServers,
    timeoutMs: 300,
    retries: 0,
    ...extra,
  });
}

describe('discoverDsync', () => {
  it('finds the wildcard targets at the child-specific name, with addresses from the parent', async () => {
    wildcardAsked.length = 0;
    const found = await discover('Example.Test', [wildcardParent]);
    expect(found).toEqual({
      zone: 'example.test.',
      parentZone: 'test.',
      lookedUp: ['example._dsync.test.'],
      targets: [
        {
          type: 'CDS',
          scheme: 1,
          port: 5300,
          target: 'scanner.test.',
          owner: 'example._dsync.test.',
          ttl: 300,
          addresses: ['192.0.2.53', '2001:db8::53'],
        },
        {
          type: 'CSYNC',
          scheme: 1,
          port: 5301,
          target: 'scanner.test.',
          owner: 'example._dsync.test.',
          ttl: 300,
          addresses: ['192.0.2.53', '2001:db8::53'],
        },
      ],
      ignored: [],
    });
    // One DSYNC query, and the shared target resolved once.
    expect([...wildcardAsked].sort()).toEqual([
      'example._dsync.test. DSYNC',
      'scanner.test. A',
      'scanner.test. AAAA',
    ]);
    expect(JSON.parse(JSON.stringify(found))).toEqual(found);
  });

  it('falls back to _dsync.<parent> after NXDOMAIN at the child-specific name', async () => {
    bareAsked.length = 0;
    const found = await discover('a.b.test.', [bareParent]);
    expect(found.lookedUp).toEqual(['a.b._dsync.test.', '_dsync.test.']);
    expect(found.targets).toEqual([
      {
        type: 'CDS',
        scheme: 1,
        port: 5300,
        target: 'scanner.test.',
        owner: '_dsync.test.',
        ttl: 300,
        addresses: ['192.0.2.53', '2001:db8::53'],
      },
    ]);
    expect(bareAsked.slice(0, 2)).toEqual(['a.b._dsync.test. DSYNC', '_dsync.test. DSYNC']);
  });

  it('gives no targets, and no error, when the parent publishes no DSYNC', async () => {
    emptyAsked.length = 0;
    const found = await discover('example.test.', [emptyParent]);
    expect(found).toEqual({
      zone: 'example.test.',
      parentZone: 'test.',
      lookedUp: ['example._dsync.test.', '_dsync.test.'],
      targets: [],
      ignored: [],
    });
    expect(emptyAsked).toEqual(['example._dsync.test. DSYNC', '_dsync.test. DSYNC']);
  });

  it('keeps no CDS target when the parent publishes two, and lists both', async () => {
    const found = await discover('example.test.', [duplicates]);
    expect(found.targets.map((target) => target.type)).toEqual(['CSYNC']);
    expect(found.ignored.map((entry) => entry.record)).toEqual([
      'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 scanner.test.',
      'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5399 scanner.test.',
    ]);
  });

  it('leaves a target outside the parent zone without addresses unless a resolver is given', async () => {
    const unresolved = await discover('example.test.', [outsideTarget]);
    expect(unresolved.targets).toMatchObject([
      { type: 'CDS', target: 'scanner.registry.example.', addresses: [] },
    ]);
    expect(unresolved.ignored).toEqual([
      {
        record: 'example._dsync.test. 300 IN DSYNC CDS NOTIFY 5300 scanner.registry.example.',
        reason:
          'target scanner.registry.example. could not be resolved: it is outside the parent zone and no resolver was given',
      },
    ]);

    const names: string[] = [];
    const resolved = await discover('example.test.', [outsideTarget], {
      resolveAddresses: (name: string) => {
        names.push(name);
        return Promise.resolve(['198.51.100.7', '198.51.100.7']);
      },
    });
    expect(names).toEqual(['scanner.registry.example.']);
    expect(resolved.targets[0]!.addresses).toEqual(['198.51.100.7']);
    expect(resolved.ignored).toEqual([]);
  });

  it('says why when the resolver fails', async () => {
    const found = await discover('example.test.', [outsideTarget], {
      resolveAddresses: () => Promise.reject(new Error('no route to resolver')),
    });
    expect(found.targets[0]!.addresses).toEqual([]);
    expect(found.ignored[0]!.reason).toBe(
      'target scanner.registry.example. could not be resolved: the resolver failed: no route to resolver',
    );
  });

  it('moves on from a server that times out or refuses connections', async () => {
    wildcardAsked.length = 0;
    silentAsked.length = 0;
    const found = await discover('example.test.', [silent, closed, wildcardParent]);
    expect(found.targets).toHaveLength(2);
    expect(found.targets[0]!.addresses).toEqual(['192.0.2.53', '2001:db8::53']);
    // The answering server is asked first afterwards: the silent one is not waited for again.
    expect(silentAsked).toEqual(['example._dsync.test. DSYNC']);
    expect(wildcardAsked).toHaveLength(3);
  });

  it('throws a retryable ParentServerUnreachableError when no server answers', async () => {
    const error = await discover('example.test.', [silent, closed]).catch(
      (caught: unknown) => caught,
    );
    expect(ParentServerUnreachableError.isInstance(error)).toBe(true);
    expect((error as ParentServerUnreachableError).isRetryable).toBe(true);
    expect((error as ParentServerUnreachableError).server).toBe(`127.0.0.1:${closed.port}`);
  });

  it('throws ParentAnswerError for SERVFAIL (retryable) and for an answer without AA', async () => {
    const failed = await discover('example.test.', [servfail]).catch((caught: unknown) => caught);
    expect(ParentAnswerError.isInstance(failed)).toBe(true);
    expect((failed as ParentAnswerError).problem).toBe('rcode');
    expect((failed as ParentAnswerError).isRetryable).toBe(true);
    expect((failed as Error).message).toMatch(/SERVFAIL for example\._dsync\.test\. DSYNC/);

    const delegated = await discover('example.test.', [referral]).catch(
      (caught: unknown) => caught,
    );
    expect(ParentAnswerError.isInstance(delegated)).toBe(true);
    expect((delegated as ParentAnswerError).problem).toBe('not-authoritative');
  });

  it('refuses bad configuration and honours an aborted signal', async () => {
    await expect(discover('example.test.', [])).rejects.toThrow(ConfigError);
    await expect(discover('example.other.', [wildcardParent])).rejects.toThrow(ConfigError);
    const controller = new AbortController();
    controller.abort();
    const error = await discover('example.test.', [wildcardParent], {
      signal: controller.signal,
    }).catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
  });

  it('stops with AbortError when the signal fires during a query', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await discover('example.test.', [silent], {
      timeoutMs: 5000,
      signal: controller.signal,
    }).catch((caught: unknown) => caught);
    expect(AbortError.isInstance(error)).toBe(true);
  });
});
