/**
 * Crafted child observations for the scanner tests: DNS providers with real ECDSA P-256 keys
 * (algorithm 13, made with node:crypto) whose servers answer CDS, CDNSKEY, CSYNC and NS, signed.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { decideParentUpdate, type CurrentDelegation } from '../src/scanner.js';
import type {
  ChildObservations,
  ChildServerData,
  ChildServerObservation,
  ParentScanPolicy,
  ScanReasonCode,
} from '../src/types.js';
import { canonicalRrsetSigningData, computeDs, keyTag, type RecordData } from '@chorus/dns';
import type { CsyncData, DnskeyData, DsData, RecordType, RRset, RrsigData } from '@chorus/core';

export const ZONE = 'example.test.';
export const NOW = 1_800_000_000;
export const TTL = 300;

export interface Key {
  dnskey: DnskeyData;
  privateKey: KeyObject;
  tag: number;
}

export function newKey(flags: 256 | 257): Key {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const raw = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  const dnskey = { flags, protocol: 3, algorithm: 13, publicKey: raw.toString('base64') };
  return { dnskey, privateKey, tag: keyTag(dnskey) };
}

export function signRrset<T extends RecordType>(
  name: string,
  type: T,
  records: RecordData[],
  signers: readonly Key[],
  validity: { inception?: number; expiration?: number } = {},
): RRset<T> {
  const rrset = { name, type, class: 'IN' as const, ttl: TTL, records };
  const signatures = signers.map((key): RrsigData => {
    const unsigned: RrsigData = {
      typeCovered: type,
      algorithm: 13,
      labels: name.split('.').filter((label) => label !== '').length,
      originalTtl: TTL,
      expiration: validity.expiration ?? NOW + 86_400,
      inception: validity.inception ?? NOW - 3600,
      keyTag: key.tag,
      signerName: ZONE,
      signature: '',
    };
    const data = canonicalRrsetSigningData(unsigned, rrset);
    const signature = sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    return { ...unsigned, signature: signature.toString('base64') };
  });
  return { ...rrset, signatures } as unknown as RRset<T>;
}

/** One DNS provider of the zone (RFC 8901 model 2): its own KSK and ZSK. */
export class Provider {
  readonly ksk = newKey(257);
  readonly zsk = newKey(256);
  constructor(
    readonly nameserver: string,
    readonly address: string,
  ) {}
  ds(digestType: 2 | 4 = 2): DsData {
    return computeDs(ZONE, this.ksk.dnskey, digestType);
  }
}

export const DELETE_CDS: DsData = { keyTag: 0, algorithm: 0, digestType: 0, digest: '00' };
export const DELETE_CDNSKEY: DnskeyData = {
  flags: 0,
  protocol: 3,
  algorithm: 0,
  publicKey: 'AA==',
};

export interface ServeOptions {
  /** Extra DNSKEYs in this provider's DNSKEY RRset (model 2: the others' ZSKs). */
  foreign?: DnskeyData[];
  cds?: DsData[] | null;
  cdnskey?: DnskeyData[] | null;
  csync?: CsyncData[] | null;
  ns?: string[] | null;
  soaSerial?: number;
  soaSerialAfter?: number;
  hosts?: Record<string, { a?: string[]; aaaa?: string[] }>;
  /** Who signs CDS/CDNSKEY: the KSK (default), the ZSK, nobody, or a key outside the RRset. */
  cdsSigner?: 'ksk' | 'zsk' | 'none' | Key;
  csyncSigner?: 'zsk' | 'none';
  dnskeyValidity?: { inception?: number; expiration?: number };
  inDelegation?: boolean;
}

export function serve(provider: Provider, options: ServeOptions = {}): ChildServerObservation {
  const dnskeyRecords = [provider.ksk.dnskey, provider.zsk.dnskey, ...(options.foreign ?? [])];
  const cdsSigner =
    options.cdsSigner === undefined || options.cdsSigner === 'ksk'
      ? [provider.ksk]
      : options.cdsSigner === 'zsk'
        ? [provider.zsk]
        : options.cdsSigner === 'none'
          ? []
          : [options.cdsSigner];
  const zskOnly = options.csyncSigner === 'none' ? [] : [provider.zsk];
  const soa = (serial: number) =>
    signRrset(
      ZONE,
      'SOA',
      [
        {
          mname: provider.nameserver,
          rname: `hostmaster.${ZONE}`,
          serial,
          refresh: 3600,
          retry: 600,
          expire: 86400,
          minimum: 30,
        },
      ],
      [provider.zsk],
    );
  const serial = options.soaSerial ?? 10;
  const nsNames = options.ns === undefined ? [provider.nameserver] : options.ns;
  const data: ChildServerData = {
    soa: soa(serial),
    soaAfter: soa(options.soaSerialAfter ?? serial),
    dnskey: signRrset(ZONE, 'DNSKEY', dnskeyRecords, [provider.ksk], options.dnskeyValidity),
    cds: options.cds ? signRrset(ZONE, 'CDS', options.cds, cdsSigner) : null,
    cdnskey: options.cdnskey ? signRrset(ZONE, 'CDNSKEY', options.cdnskey, cdsSigner) : null,
    csync: options.csync ? signRrset(ZONE, 'CSYNC', options.csync, zskOnly) : null,
    ns: nsNames && nsNames.length > 0 ? signRrset(ZONE, 'NS', nsNames, zskOnly) : null,
    hosts: Object.entries(options.hosts ?? {}).map(([name, host]) => ({
      name,
      a: host.a ? signRrset(name, 'A', host.a, zskOnly) : null,
      aaaa: host.aaaa ? signRrset(name, 'AAAA', host.aaaa, zskOnly) : null,
    })),
  };
  return {
    nameserver: provider.nameserver,
    address: provider.address,
    server: `${provider.address}:53`,
    inDelegation: options.inDelegation ?? true,
    status: 'answered',
    data,
  };
}

export function down(provider: Provider, status: 'unreachable' | 'bad-response' = 'unreachable') {
  return {
    nameserver: provider.nameserver,
    address: provider.address,
    server: `${provider.address}:53`,
    inDelegation: true,
    status,
    error: status === 'unreachable' ? 'connection refused' : 'REFUSED without AA',
  } satisfies ChildServerObservation;
}

export function observed(...servers: ChildServerObservation[]): ChildObservations {
  return { zone: ZONE, observedAt: '2027-01-15T08:00:00.000Z', servers, unresolved: [] };
}

export function delegation(ds: DsData[], ns: string[], glue: CurrentDelegation['glue'] = []) {
  return {
    zone: ZONE,
    ds:
      ds.length > 0
        ? { name: ZONE, type: 'DS', class: 'IN', ttl: 3600, records: ds, signatures: [] }
        : null,
    ns: { name: ZONE, type: 'NS', class: 'IN', ttl: 86400, records: ns, signatures: [] },
    glue,
  } satisfies CurrentDelegation;
}

export function decide(
  observations: ChildObservations,
  current: CurrentDelegation,
  policy: ParentScanPolicy = {},
) {
  return decideParentUpdate(observations, current, { now: NOW, ...policy });
}

export function codes(reasons: { code: ScanReasonCode }[]): ScanReasonCode[] {
  return reasons.map((entry) => entry.code);
}

export const alpha = new Provider('ns1.alpha.example.', '192.0.2.1');
export const beta = new Provider('ns1.beta.example.', '198.51.100.1');
export const gamma = new Provider('ns1.gamma.example.', '203.0.113.1');
/** The group's ZSKs, published by every provider (model 2). */
export const zsks = (...providers: Provider[]) => providers.map((provider) => provider.zsk.dnskey);
export const cdsOf = (...providers: Provider[]) => providers.map((provider) => provider.ds());
export const cdnskeyOf = (...providers: Provider[]) =>
  providers.map((provider) => provider.ksk.dnskey);

/** Both providers delegated, both KSKs at the parent, CDS/CDNSKEY as given at both. */
export function twoProviders(
  signal: Pick<ServeOptions, 'cds' | 'cdnskey'>,
  overrides: ServeOptions = {},
) {
  return observed(
    serve(alpha, { foreign: zsks(beta), ...signal }),
    serve(beta, { foreign: zsks(alpha), ...signal, ...overrides }),
  );
}
export const bothDelegated = delegation(cdsOf(alpha, beta), [alpha.nameserver, beta.nameserver]);
