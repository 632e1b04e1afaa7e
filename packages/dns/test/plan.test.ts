import { describe, expect, it } from 'vitest';
import { assertPlanAllowed, planSignerChanges } from '../src/kit/plan.js';
import { computeDs } from '../src/dnssec/ds.js';
import {
  can,
  capabilityTable,
  cannot,
  UnsafePlanError,
  UnsupportedCapabilityError,
  type ApexSnapshot,
  type DesiredSignerState,
  type DnskeyData,
  type RRset,
  type SigningKey,
} from '@chorus/core';

const zone = 'example.test.';
const key = (flags: number, fill: number): DnskeyData => ({
  flags,
  protocol: 3,
  algorithm: 13,
  publicKey: Buffer.alloc(64, fill).toString('base64'),
});
const ownKsk = key(257, 1);
const ownZsk = key(256, 2);
const foreignKsk = key(257, 3);
const foreignZsk = key(256, 4);
const staleForeignZsk = key(256, 5);
const own: SigningKey[] = [
  { role: 'KSK', algorithm: 13, keyTag: 1, dnskey: ownKsk },
  { role: 'ZSK', algorithm: 13, keyTag: 2, dnskey: ownZsk },
];

function rrset<T extends string>(type: T, records: unknown[]): RRset<T> {
  return { name: zone, type, class: 'IN', ttl: 30, records, signatures: [] } as unknown as RRset<T>;
}

function served(overrides: Partial<ApexSnapshot> = {}): ApexSnapshot {
  return {
    zone,
    server: '127.0.0.1:53',
    soa: null,
    ns: rrset('NS', ['ns.bind.test.']),
    dnskey: rrset('DNSKEY', [ownKsk, ownZsk]),
    cds: rrset('CDS', [computeDs(zone, ownKsk, 2)]),
    cdnskey: rrset('CDNSKEY', [ownKsk]),
    csync: null,
    ...overrides,
  };
}

const desired: DesiredSignerState = {
  foreignDnskeys: [foreignKsk, foreignZsk],
  foreignCds: [computeDs(zone, foreignKsk, 2)],
  foreignCdnskeys: [foreignKsk],
  csync: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
  apexNs: ['ns.bind.test.', 'ns.knot.test.'],
  ttl: 30,
};

describe('planSignerChanges', () => {
  it('adds what is missing, adds before deletes, in a stable order', () => {
    const plan = planSignerChanges({ signerId: 'bind', ownKeys: own, served: served(), desired });
    expect(plan.changes.map((change) => `${change.action} ${change.type}`)).toEqual([
      'add DNSKEY',
      'add DNSKEY',
      'add CDS',
      'add CDNSKEY',
      'add NS',
      'add CSYNC',
    ]);
    expect(plan.changes.every((change) => change.ttl === 30)).toBe(true);
  });

  it("leaves DNSKEY, CDS and CDNSKEY alone in model 1 (the owner's set), and still moves NS and CSYNC", () => {
    // A model-1 provider serves the owner's KSK and other providers' ZSKs, which it does not own.
    const ownerSet = served({ dnskey: rrset('DNSKEY', [foreignKsk, ownZsk, staleForeignZsk]) });
    const model1 = { ...desired, foreignDnskeys: [], foreignCds: [], foreignCdnskeys: [] };
    const plan = planSignerChanges({
      signerId: 'knot',
      ownKeys: own,
      served: ownerSet,
      desired: { ...model1, ownerSignsDnskey: true },
    });
    expect(plan.changes.map((change) => `${change.action} ${change.type}`)).toEqual([
      'add NS',
      'add CSYNC',
    ]);
    // Negative control: without the flag the same desired state would delete the owner's keys.
    const model2 = planSignerChanges({
      signerId: 'knot',
      ownKeys: own,
      served: ownerSet,
      desired: model1,
    });
    expect(
      model2.changes.filter((change) => change.action === 'delete').map((c) => c.type),
    ).toEqual(['DNSKEY', 'DNSKEY']);
  });

  it('is empty once the server serves the desired state (whatever the TTLs)', () => {
    const converged = served({
      dnskey: { ...rrset('DNSKEY', [ownKsk, ownZsk, foreignKsk, foreignZsk]), ttl: 300 },
      cds: rrset('CDS', [
        computeDs(zone, ownKsk, 2),
        {
          ...computeDs(zone, foreignKsk, 2),
          digest: computeDs(zone, foreignKsk, 2).digest.toLowerCase(),
        },
      ]),
      cdnskey: rrset('CDNSKEY', [ownKsk, foreignKsk]),
      csync: rrset('CSYNC', [{ serial: 0, flags: 1, types: ['AAAA', 'A', 'NS'] }]),
      ns: rrset('NS', ['NS.KNOT.test.', 'ns.bind.test.']),
    });
    expect(
      planSignerChanges({ signerId: 'bind', ownKeys: own, served: converged, desired }).changes,
    ).toEqual([]);
  });

  it('deletes stale foreign records but never own keys or own CDS/CDNSKEY', () => {
    const withStale = served({
      dnskey: rrset('DNSKEY', [ownKsk, ownZsk, staleForeignZsk]),
      cds: rrset('CDS', [
        computeDs(zone, ownKsk, 2),
        computeDs(zone, ownKsk, 4),
        computeDs(zone, staleForeignZsk, 2),
      ]),
      csync: rrset('CSYNC', [{ serial: 0, flags: 1, types: ['NS'] }]),
    });
    const plan = planSignerChanges({
      signerId: 'bind',
      ownKeys: own,
      served: withStale,
      desired: {
        foreignDnskeys: [],
        foreignCds: [],
        foreignCdnskeys: [],
        csync: null,
        ttl: 30,
      },
    });
    expect(plan.changes).toEqual([
      { action: 'delete', type: 'DNSKEY', data: staleForeignZsk, ttl: 30 },
      { action: 'delete', type: 'CDS', data: computeDs(zone, staleForeignZsk, 2), ttl: 30 },
      { action: 'delete', type: 'CSYNC', data: { serial: 0, flags: 1, types: ['NS'] }, ttl: 30 },
    ]);
  });

  it('drops own keys that a caller put into the desired foreign set', () => {
    const plan = planSignerChanges({
      signerId: 'bind',
      ownKeys: own,
      served: served({ ns: null }),
      desired: {
        foreignDnskeys: [ownZsk],
        foreignCds: [computeDs(zone, ownKsk, 4)],
        foreignCdnskeys: [ownKsk],
        csync: null,
        ttl: 30,
      },
    });
    expect(plan.changes).toEqual([]);
  });

  it('refuses an empty apex NS set', () => {
    expect(() =>
      planSignerChanges({
        signerId: 'bind',
        ownKeys: own,
        served: served(),
        desired: { ...desired, apexNs: [] },
      }),
    ).toThrow(UnsafePlanError);
  });

  it('survives a JSON round trip', () => {
    const plan = planSignerChanges({ signerId: 'bind', ownKeys: own, served: served(), desired });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });
});

describe('capabilities', () => {
  const signer = {
    id: 'limited',
    capabilities: {
      'dnskey-import-foreign': can('by UPDATE'),
      'csync-publish': cannot('the API has no CSYNC type'),
    },
  };

  it('lets a plan through when every change is allowed and names the capability otherwise', () => {
    const dnskeyOnly = planSignerChanges({
      signerId: 'limited',
      ownKeys: own,
      served: served(),
      desired: {
        ...desired,
        foreignCds: [],
        foreignCdnskeys: [],
        csync: null,
        apexNs: undefined,
        ttl: 30,
      },
    });
    expect(() => assertPlanAllowed(signer, dnskeyOnly)).not.toThrow();
    const withCsync = planSignerChanges({
      signerId: 'limited',
      ownKeys: own,
      served: served(),
      desired: {
        ...desired,
        foreignDnskeys: [],
        foreignCds: [],
        foreignCdnskeys: [],
        apexNs: undefined,
        ttl: 30,
      },
    });
    const error = (() => {
      try {
        assertPlanAllowed(signer, withCsync);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(UnsupportedCapabilityError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'limited cannot csync-publish: the API has no CSYNC type',
    );
  });

  it('renders a table with every capability, undeclared ones as cannot', () => {
    const table = capabilityTable(signer.capabilities);
    expect(table).toContain('| `dnskey-import-foreign` | ✅ can | by UPDATE |');
    expect(table).toContain('| `csync-publish` | ❌ cannot | the API has no CSYNC type |');
    expect(table).toContain('| `key-list` | ❌ cannot | not declared |');
  });
});
