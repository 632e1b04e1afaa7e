/**
 * The observe-only parent channel and the child observer against small TCP servers this test
 * opens itself (they stand in for parent and child nameservers, good and broken); the real lab
 * parent is exercised in test/parent-channel.test.ts.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ParentAnswerError,
  ParentServerUnreachableError,
  type DnsMessage,
  type DnsRecord,
  type NameServer,
} from '@chorus/core';
import { createObserveOnlyParentChannel } from '../src/observe-only.js';
import { observeChildServers } from '../src/observe-child.js';
import { observeBootstrapSignals, signallingName } from '../src/observe-signals.js';
import { decodeMessage, encodeMessage } from '@chorus/dns';

type Handler = (request: DnsMessage) => Buffer | Partial<DnsMessage>;

const servers: net.Server[] = [];

/** A TCP DNS server on 127.0.0.1 that answers with `handler`. */
async function tcpServer(handler: Handler): Promise<NameServer> {
  const server = net.createServer((socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        const length = buffer.readUInt16BE(0);
        const request = decodeMessage(buffer.subarray(2, 2 + length));
        buffer = buffer.subarray(2 + length);
        const reply = handler(request);
        const bytes = Buffer.isBuffer(reply)
          ? Buffer.concat([Buffer.from([request.id >> 8, request.id & 0xff]), reply])
          : encodeMessage({
              id: request.id,
              opcode: 'QUERY',
              flags: { qr: true, aa: true, tc: false, rd: false, ra: false, ad: false, cd: false },
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

const CHILD = 'shop.example.';
const DS_RDATA = { keyTag: 12345, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) };
const RRSIG = {
  typeCovered: 'DS',
  algorithm: 13,
  labels: 2,
  originalTtl: 3600,
  expiration: 2_000_000_000,
  inception: 1_700_000_000,
  keyTag: 999,
  signerName: 'example.',
  signature: Buffer.alloc(64, 1).toString('base64'),
};

/** A parent of `example.` delegating shop.example. to an in-bailiwick and an outside name. */
function parentHandler(options: { dsTtl?: number; nsNames?: string[] } = {}): Handler {
  return (request) => {
    const question = request.questions[0]!;
    if (question.type === 'DS') {
      const answers: DnsRecord[] = [
        { name: CHILD, type: 'DS', class: 'IN', ttl: options.dsTtl ?? 3600, data: DS_RDATA },
        { name: CHILD, type: 'RRSIG', class: 'IN', ttl: 3600, data: RRSIG },
      ];
      return { answers };
    }
    const names = options.nsNames ?? ['ns1.shop.example.', 'ns.elsewhere.example.'];
    return {
      flags: { qr: true, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false },
      authorities: names.map((data): DnsRecord => ({
        name: CHILD,
        type: 'NS',
        class: 'IN',
        ttl: 7200,
        data,
      })),
      additionals: [
        { name: 'ns1.shop.example.', type: 'A', class: 'IN', ttl: 7200, data: '192.0.2.1' },
        { name: 'ns1.shop.example.', type: 'AAAA', class: 'IN', ttl: 600, data: '2001:db8::1' },
        { name: 'unrelated.example.', type: 'A', class: 'IN', ttl: 7200, data: '192.0.2.99' },
      ],
    };
  };
}

let good: NameServer;
let disagreeing: NameServer;
let garbage: NameServer;
let nxdomain: NameServer;
let notAuthoritative: NameServer;
let servfail: NameServer;
let closed: NameServer;

beforeAll(async () => {
  good = await tcpServer(parentHandler());
  disagreeing = await tcpServer(parentHandler({ nsNames: ['ns1.shop.example.'] }));
  garbage = await tcpServer(() =>
    Buffer.from([0x84, 0x00, 0x00, 0x01, 0x00, 0x05, 0, 0, 0, 0, 0xff]),
  );
  nxdomain = await tcpServer(() => ({ rcode: 'NXDOMAIN' }));
  notAuthoritative = await tcpServer(() => ({
    flags: { qr: true, aa: false, tc: false, rd: false, ra: false, ad: false, cd: false },
  }));
  servfail = await tcpServer(() => ({ rcode: 'SERVFAIL' }));
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closed = { address: '127.0.0.1', port: (probe.address() as net.AddressInfo).port };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

afterAll(async () => {
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

function channel(parentServers: NameServer[]) {
  return createObserveOnlyParentChannel({
    id: 'registry',
    parentZone: 'example.',
    parentServers,
    timeoutMs: 500,
    retries: 0,
  });
}

describe('the observe-only parent channel', () => {
  it('declares every capability as cannot, with a reason', () => {
    const parent = channel([{ address: '127.0.0.1' }]);
    expect(parent.kind).toBe('observe-only');
    expect(parent.specificationVersion).toBe('v1');
    expect('requestDsUpdate' in parent).toBe(false);
    expect('requestNsUpdate' in parent).toBe(false);
    for (const capability of ['cds-scan', 'csync-scan', 'ds-push', 'ns-push'] as const) {
      expect(parent.capabilities[capability]?.status, capability).toBe('cannot');
      expect(parent.capabilities[capability]?.reason.length, capability).toBeGreaterThan(20);
    }
  });

  it('refuses to start without parent servers, and zones outside the parent', async () => {
    expect(() => channel([])).toThrow(ConfigError);
    await expect(channel([good]).getDelegation('shop.other.', {})).rejects.toThrow(ConfigError);
    await expect(channel([good]).getDelegation('example.', {})).rejects.toThrow(ConfigError);
  });

  it('reports DS with TTL and RRSIGs, the referral NS with TTL, and in-bailiwick glue', async () => {
    const delegation = await channel([good, good]).getDelegation('Shop.Example', {});
    expect(delegation.zone).toBe('shop.example.');
    expect(delegation.parent).toBe('example.');
    expect(delegation.ds).toMatchObject({ ttl: 3600, records: [DS_RDATA] });
    expect(delegation.ds?.signatures).toHaveLength(1);
    expect(delegation.ns?.ttl).toBe(7200);
    expect([...delegation.ns!.records].sort()).toEqual([
      'ns.elsewhere.example.',
      'ns1.shop.example.',
    ]);
    expect(delegation.glue).toEqual([
      { name: 'ns1.shop.example.', addresses: ['192.0.2.1', '2001:db8::1'], ttl: 600 },
    ]);
    expect(delegation.consistent).toBe(true);
    expect(delegation.servers.map((entry) => entry.consistent)).toEqual([true, true]);
    expect(JSON.parse(JSON.stringify(delegation))).toEqual(delegation);
  });

  it('says which parent server disagrees', async () => {
    const delegation = await channel([good, disagreeing]).getDelegation('shop.example.', {});
    expect(delegation.consistent).toBe(false);
    expect(delegation.servers.map((entry) => entry.consistent)).toEqual([true, false]);
    expect(delegation.servers[1]!.ns?.records).toEqual(['ns1.shop.example.']);
  });

  it('throws a retryable ParentServerUnreachableError for a server that does not answer', async () => {
    const error = await channel([good, closed])
      .getDelegation('shop.example.', {})
      .catch((caught: unknown) => caught);
    expect(ParentServerUnreachableError.isInstance(error)).toBe(true);
    expect((error as ParentServerUnreachableError).isRetryable).toBe(true);
    expect((error as ParentServerUnreachableError).server).toBe(`127.0.0.1:${closed.port}`);
  });

  it.each([
    ['garbage', () => garbage, 'malformed', false],
    ['NXDOMAIN', () => nxdomain, 'not-delegated', false],
    ['a DS answer without AA', () => notAuthoritative, 'not-authoritative', false],
    ['SERVFAIL', () => servfail, 'rcode', true],
  ] as const)('throws ParentAnswerError for %s', async (_what, server, problem, retryable) => {
    const error = await channel([server()])
      .getDelegation('shop.example.', {})
      .catch((caught: unknown) => caught);
    expect(ParentAnswerError.isInstance(error)).toBe(true);
    expect((error as ParentAnswerError).problem).toBe(problem);
    expect((error as ParentAnswerError).isRetryable).toBe(retryable);
  });
});

describe('observeChildServers', () => {
  it('asks every address of every delegated name, recording failures instead of throwing', async () => {
    const observations = await observeChildServers({
      zone: CHILD,
      delegation: {
        ns: {
          name: CHILD,
          type: 'NS',
          class: 'IN',
          ttl: 60,
          records: ['ns1.shop.example.', 'ns.gone.example.', 'ns.unknown.example.'],
          signatures: [],
        },
        glue: [
          { name: 'ns1.shop.example.', addresses: ['127.0.0.1'], ttl: 60 },
          { name: 'ns.gone.example.', addresses: ['127.0.0.1'], ttl: 60 },
        ],
      },
      // Every name points at one port, so give each its own server through the lookup.
      port: notAuthoritative.port!,
      timeoutMs: 500,
      retries: 0,
      resolveAddresses: () => Promise.resolve([]),
    });
    expect(observations.unresolved).toEqual([
      { nameserver: 'ns.unknown.example.', inDelegation: true, error: 'no A or AAAA record' },
    ]);
    expect(observations.servers.map((entry) => [entry.nameserver, entry.status])).toEqual([
      ['ns.gone.example.', 'bad-response'],
      ['ns1.shop.example.', 'bad-response'],
    ]);
    const [first] = observations.servers;
    expect(first?.status === 'bad-response' && first.error).toContain('without AA');
  });

  it('marks a server that refuses connections as unreachable', async () => {
    const observations = await observeChildServers({
      zone: CHILD,
      delegation: {
        ns: {
          name: CHILD,
          type: 'NS',
          class: 'IN',
          ttl: 60,
          records: ['ns1.shop.example.'],
          signatures: [],
        },
        glue: [{ name: 'ns1.shop.example.', addresses: ['127.0.0.1'], ttl: 60 }],
      },
      port: closed.port!,
      timeoutMs: 500,
      retries: 0,
    });
    expect(observations.servers).toEqual([
      expect.objectContaining({ status: 'unreachable', server: `127.0.0.1:${closed.port}` }),
    ]);
  });
});

describe('observeBootstrapSignals (RFC 9615)', () => {
  const CDS = { keyTag: 4242, algorithm: 13, digestType: 2, digest: 'CD'.repeat(32) };
  const outside = signallingName(CHILD, 'ns.elsewhere.example.');
  const asked: { name: string; type: string; rd: boolean }[] = [];
  let resolver: NameServer;

  beforeAll(async () => {
    // A validating resolver: CDS at the outside name with AD=1, NXDOMAIN for anything else.
    resolver = await tcpServer((request) => {
      const question = request.questions[0]!;
      asked.push({ name: question.name, type: question.type, rd: request.flags.rd });
      const flags = { qr: true, aa: false, tc: false, rd: true, ra: true, ad: true, cd: false };
      if (question.name !== outside) return { flags, rcode: 'NXDOMAIN' };
      if (question.type !== 'CDS') return { flags };
      const answers: DnsRecord[] = [
        { name: outside, type: 'CDS', class: 'IN', ttl: 300, data: CDS },
      ];
      return { flags, answers };
    });
  });

  it('asks the resolver (RD=1) at every outside NS hostname and skips names in the child', async () => {
    const found = await observeBootstrapSignals({
      zone: CHILD,
      nameservers: ['ns1.shop.example.', 'NS.Elsewhere.Example.', 'ns.gone.example.'],
      resolver,
      timeoutMs: 500,
      retries: 0,
    });
    expect(found.resolver).toBe(`127.0.0.1:${resolver.port}`);
    expect(found.skipped).toEqual(['ns1.shop.example.']);
    expect(found.names.map((entry) => entry.name)).toEqual([
      signallingName(CHILD, 'ns.elsewhere.example.'),
      signallingName(CHILD, 'ns.gone.example.'),
    ]);
    const [elsewhere, gone] = found.names;
    expect(elsewhere!.cds).toMatchObject({ status: 'answered', rcode: 'NOERROR', ad: true });
    expect(elsewhere!.cds.status === 'answered' && elsewhere!.cds.rrset?.records).toEqual([CDS]);
    expect(elsewhere!.cdnskey).toMatchObject({ status: 'answered', ad: true, rrset: null });
    expect(gone!.cds).toMatchObject({ status: 'answered', rcode: 'NXDOMAIN', rrset: null });
    expect(asked.every((question) => question.rd)).toBe(true);
  });

  it('records an unreachable resolver instead of throwing', async () => {
    const found = await observeBootstrapSignals({
      zone: CHILD,
      nameservers: ['ns.elsewhere.example.'],
      resolver: closed,
      timeoutMs: 500,
      retries: 0,
    });
    expect(found.names[0]!.cds).toMatchObject({ status: 'unreachable' });
  });

  it('is part of observeChildServers only for a delegation without DS', async () => {
    const ns = {
      name: CHILD,
      type: 'NS' as const,
      class: 'IN' as const,
      ttl: 60,
      records: ['ns.elsewhere.example.'],
      signatures: [],
    };
    const common = {
      zone: CHILD,
      port: closed.port!,
      timeoutMs: 500,
      retries: 0,
      validatingResolver: resolver,
      resolveAddresses: () => Promise.resolve(['127.0.0.1']),
    };
    const unsigned = await observeChildServers({ ...common, delegation: { ns, glue: [] } });
    expect(unsigned.signals?.names.map((entry) => entry.nameserver)).toEqual([
      'ns.elsewhere.example.',
    ]);
    const ds = { ...ns, type: 'DS' as const, records: [DS_RDATA] };
    const signed = await observeChildServers({ ...common, delegation: { ns, ds, glue: [] } });
    expect(signed.signals).toBeUndefined();
  });
});
