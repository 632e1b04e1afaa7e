/**
 * Observation fixtures: example.test. signed by two model 2 providers, a (two addresses) and b
 * (one), each with its own KSK and ZSK, delegated from test. with a DS for both KSKs. Every
 * signature is real. `world()` gives the clean group; each test changes one thing.
 */
import type { CsyncData, DnskeyData, DsData, Nsec3ParamData, RRset } from '@chorus/core';
import { computeDs } from '@chorus/dns';
import type { AuditObservations, ChildView, ParentView } from '../../src/index.js';
import { distinctKeys, signed, type TestKey, type Validity } from './signing.js';

export const ZONE = 'example.test.';
export const NOW = 1_800_000_000;
export const TTL = 300;
export const VALID: Validity = { inception: NOW - 3600, expiration: NOW + 14 * 86_400 };
export const PROBE = `chorus-audit-probe.${ZONE}`;
export const NS_A = 'ns.a.net.';
export const NS_B = 'ns.b.net.';
export const PARENT = '192.0.2.53:53';

export const [aKsk, aZsk, bKsk, bZsk] = distinctKeys([257, 256, 257, 256]) as [
  TestKey,
  TestKey,
  TestKey,
  TestKey,
];

export const dsOf = (key: TestKey): DsData => computeDs(ZONE, key.dnskey, 2);

/** What one provider serves, and how it signs. */
export interface Provider {
  addresses: string[];
  nameserver: string;
  dnskeys: TestKey[];
  /** Extra DNSKEY records nobody signs with (a collision, a stand-by key). */
  extraKeys?: DnskeyData[];
  ksk: TestKey;
  zsk: TestKey;
  ns: string[];
  cds: DsData[];
  cdnskey: DnskeyData[];
  csync?: CsyncData;
  denial: 'NSEC' | 'NSEC3' | 'none';
  nsec3param?: Nsec3ParamData;
  /** Validity of the SOA's signatures. */
  soaValidity?: Validity;
  soaTtl?: number;
  /** Who signs the data (default: the ZSK) and CDS/CDNSKEY (default: the data signers). */
  signers?: TestKey[];
  signalSigners?: TestKey[];
}

const signersOf = (p: Provider, type: string): TestKey[] =>
  (type === 'CDS' || type === 'CDNSKEY' ? p.signalSigners : undefined) ?? p.signers ?? [p.zsk];

export interface World {
  a: Provider;
  b: Provider;
  parentDs: DsData[];
  parentNs: string[];
  down?: string[];
  parentDown?: boolean;
}

const NSEC3: Nsec3ParamData = { hashAlgorithm: 1, flags: 0, iterations: 0, salt: '' };

function provider(addresses: string[], nameserver: string, ksk: TestKey, zsk: TestKey): Provider {
  return {
    addresses,
    nameserver,
    // Chorus imports every key, KSKs included: identical DNSKEY RRsets.
    dnskeys: [aKsk, aZsk, bKsk, bZsk],
    ksk,
    zsk,
    ns: [NS_A, NS_B],
    cds: [dsOf(aKsk), dsOf(bKsk)],
    cdnskey: [aKsk.dnskey, bKsk.dnskey],
    denial: 'NSEC',
  };
}

export function world(): World {
  return {
    a: provider(['192.0.2.1', '192.0.2.2'], NS_A, aKsk, aZsk),
    b: provider(['198.51.100.1'], NS_B, bKsk, bZsk),
    parentDs: [dsOf(aKsk), dsOf(bKsk)],
    parentNs: [NS_A, NS_B],
  };
}

function set<T extends RRset['type']>(
  type: T,
  records: RRset<T>['records'],
  p: Provider,
  name = ZONE,
  ttl = TTL,
) {
  const keys = signersOf(p, type);
  return records.length === 0 ? null : signed(ZONE, { name, type, ttl, records }, keys, VALID);
}

function denial(p: Provider): RRset[] {
  const soa = signed(ZONE, soaRrset(p), signersOf(p, 'SOA'), p.soaValidity ?? VALID);
  if (p.denial === 'none') return [soa];
  const proof =
    p.denial === 'NSEC'
      ? signed(
          ZONE,
          {
            name: ZONE,
            type: 'NSEC',
            ttl: TTL,
            records: [{ nextName: `www.${ZONE}`, types: ['SOA', 'NS'] }],
          },
          signersOf(p, 'NSEC'),
          VALID,
        )
      : signed(
          ZONE,
          {
            name: `2vptu5timamqttgl4luu9kg21e0aor3s.${ZONE}`,
            type: 'NSEC3',
            ttl: TTL,
            records: [
              {
                ...(p.nsec3param ?? NSEC3),
                flags: 0,
                nextHashedOwner: 'VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV',
                types: ['A'],
              },
            ],
          },
          signersOf(p, 'NSEC'),
          VALID,
        );
  return [soa, proof];
}

function soaRrset(p: Provider) {
  return {
    name: ZONE,
    type: 'SOA' as const,
    ttl: p.soaTtl ?? TTL,
    records: [
      {
        mname: p.nameserver,
        rname: `hostmaster.${ZONE}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 604_800,
        minimum: TTL,
      },
    ],
  };
}

function child(p: Provider, address: string, down: boolean): ChildView {
  const identity = {
    nameserver: p.nameserver,
    address,
    server: `${address}:53`,
    inDelegation: true,
  };
  if (down) return { ...identity, status: 'unreachable', error: `no answer from ${address}:53` };
  const keys = [...p.dnskeys.map((key) => key.dnskey), ...(p.extraKeys ?? [])];
  const nsec3param = p.denial === 'NSEC3' ? set('NSEC3PARAM', [p.nsec3param ?? NSEC3], p) : null;
  return {
    ...identity,
    status: 'answered',
    data: {
      soa: signed(ZONE, soaRrset(p), signersOf(p, 'SOA'), p.soaValidity ?? VALID),
      soaAfter: null,
      dnskey: signed(ZONE, { name: ZONE, type: 'DNSKEY', ttl: TTL, records: keys }, [p.ksk], VALID),
      cds: set('CDS', p.cds, p),
      cdnskey: set('CDNSKEY', p.cdnskey, p),
      csync: p.csync ? set('CSYNC', [p.csync], p) : null,
      ns: set('NS', p.ns, p),
      hosts: [],
      nsec3param,
      probe: { name: PROBE, rcode: 'NXDOMAIN', answers: [], authorities: denial(p) },
    },
  };
}

function parent(w: World): ParentView {
  if (w.parentDown)
    return { server: PARENT, status: 'unreachable', error: `no answer from ${PARENT}` };
  const ds: RRset<'DS'> | null =
    w.parentDs.length > 0
      ? { name: ZONE, type: 'DS', class: 'IN', ttl: TTL, records: w.parentDs, signatures: [] }
      : null;
  return {
    server: PARENT,
    status: 'answered',
    ds,
    ns: { name: ZONE, type: 'NS', class: 'IN', ttl: TTL, records: w.parentNs, signatures: [] },
    glue: [],
  };
}

export function observe(w: World): AuditObservations {
  const down = new Set(w.down ?? []);
  return {
    zone: ZONE,
    parentZone: 'test.',
    observedAt: new Date(NOW * 1000).toISOString(),
    now: NOW,
    parent: [parent(w)],
    children: [w.a, w.b].flatMap((p) =>
      p.addresses.map((address) => child(p, address, down.has(address))),
    ),
    unresolved: [],
  };
}
