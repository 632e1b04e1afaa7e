/**
 * Adopting a group built by hand: each rule of `adoptionFindings` against a consistent group of
 * two signers (one address for bind, two for pdns), once as it is and once broken the rule's way.
 */
import { describe, expect, it } from 'vitest';
import { computeDs, keyTag } from '@chorus/dns';
import type {
  ApexSnapshot,
  Delegation,
  DnskeyData,
  DsData,
  RecordType,
  RRset,
  SigningKey,
} from '@chorus/core';
import { adoptionFindings, adoptionRecord, type AdoptionObservations } from '../src/adoption.js';
import { emptyZoneState, type ZoneState } from '../src/state.js';

const ZONE = 'example.test.';

function key(role: SigningKey['role'], fill: number): SigningKey {
  const dnskey: DnskeyData = {
    flags: role === 'ZSK' ? 256 : 257,
    protocol: 3,
    algorithm: 13,
    publicKey: Buffer.alloc(64, fill).toString('base64'),
  };
  return { role, algorithm: 13, keyTag: keyTag(dnskey), dnskey };
}

const KEYS = {
  bind: { ksk: key('KSK', 1), zsk: key('ZSK', 2) },
  pdns: { ksk: key('KSK', 3), zsk: key('ZSK', 4) },
};
const ds = (signing: SigningKey, type: 2 | 4 = 2): DsData => computeDs(ZONE, signing.dnskey, type);
const NS = { bind: 'ns1.bind.test.', pdns: 'ns1.pdns.test.' };
const ENDPOINTS = {
  bind: [{ address: '192.0.2.1', port: 53 }],
  pdns: [
    { address: '192.0.2.2', port: 53 },
    { address: '192.0.2.3', port: 53 },
  ],
};
const CONTENT = {
  algorithm: 'sha384' as const,
  digest: 'ab'.repeat(48),
  rrsets: 7,
  records: 9,
  serial: 1,
  source: 'test',
};

function rrset<T extends RecordType>(type: T, records: RRset<T>['records'], ttl = 300): RRset<T> {
  return { name: ZONE, type, class: 'IN', ttl, records, signatures: [] };
}

function apex(server: string, dnskeys: SigningKey[]): ApexSnapshot {
  return {
    zone: ZONE,
    server,
    soa: rrset('SOA', [
      {
        mname: 'ns1.bind.test.',
        rname: 'hostmaster.example.test.',
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: 300,
      },
    ]),
    ns: rrset('NS', [NS.bind, NS.pdns]),
    dnskey: rrset(
      'DNSKEY',
      dnskeys.map((entry) => entry.dnskey),
    ),
    cds: rrset('CDS', [ds(KEYS.bind.ksk), ds(KEYS.pdns.ksk)]),
    cdnskey: rrset('CDNSKEY', [KEYS.bind.ksk.dnskey, KEYS.pdns.ksk.dnskey]),
    csync: null,
  };
}

function delegation(): Delegation {
  const view = {
    server: '192.0.2.53:53',
    consistent: true,
    ds: rrset('DS', [ds(KEYS.bind.ksk), ds(KEYS.pdns.ksk)], 3600),
    ns: rrset('NS', [NS.bind, NS.pdns], 3600),
    glue: [],
  };
  return {
    zone: ZONE,
    parent: 'test.',
    observedAt: '2026-01-01T10:00:00.000Z',
    ds: view.ds,
    ns: view.ns,
    glue: [],
    consistent: true,
    servers: [view, { ...view, server: '192.0.2.54:53' }],
  };
}

/** bind and pdns, registered with keys and content, serving a consistent group. */
function consistentGroup(): { state: ZoneState; observed: AdoptionObservations } {
  const signer = (id: 'bind' | 'pdns') => ({
    id,
    kind: id,
    nameServerNames: [NS[id]],
    endpoints: ENDPOINTS[id],
    keys: [KEYS[id].ksk, KEYS[id].zsk],
    content: CONTENT,
  });
  const state: ZoneState = {
    ...emptyZoneState(ZONE),
    signers: { bind: signer('bind'), pdns: signer('pdns') },
  };
  const bindKeys = [KEYS.bind.ksk, KEYS.bind.zsk, KEYS.pdns.zsk];
  const pdnsKeys = [KEYS.pdns.ksk, KEYS.pdns.zsk, KEYS.bind.zsk];
  return {
    state,
    observed: {
      servers: {
        bind: [apex('192.0.2.1:53', bindKeys)],
        pdns: [apex('192.0.2.2:53', pdnsKeys), apex('192.0.2.3:53', pdnsKeys)],
      },
      delegation: delegation(),
    },
  };
}

const MEMBERS = ['bind', 'pdns'];

function findings(group = consistentGroup()) {
  return adoptionFindings(group.state, MEMBERS, group.observed);
}

function withCode(code: string, group = consistentGroup()) {
  return findings(group).filter((entry) => entry.code === code);
}

/** The observed apex of one endpoint, to break. */
function apexAt(group: ReturnType<typeof consistentGroup>, id: 'bind' | 'pdns', index = 0) {
  return group.observed.servers[id]![index] as ApexSnapshot;
}

function theDelegation(group: ReturnType<typeof consistentGroup>): Delegation {
  return group.observed.delegation as Delegation;
}

describe('a consistent group', () => {
  it('has no finding, and its record says which NS names belong to which signer', () => {
    const group = consistentGroup();
    expect(findings(group)).toEqual([]);
    expect(adoptionRecord(group.state, MEMBERS, theDelegation(group))).toEqual({
      observedAt: '2026-01-01T10:00:00.000Z',
      parentServers: ['192.0.2.53:53', '192.0.2.54:53'],
      nameServers: { bind: [NS.bind], pdns: [NS.pdns] },
    });
  });
});

describe('(a) every address answers for the zone', () => {
  it('passes when every registered address answered', () => {
    expect(withCode('endpoint-unanswered')).toEqual([]);
  });

  it('names the signer and the address that did not answer, with why', () => {
    const group = consistentGroup();
    group.observed.servers.pdns![1] = { server: '192.0.2.3:53', error: 'timed out after 3000 ms' };
    const [found, ...more] = withCode('endpoint-unanswered', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('pdns at 192.0.2.3:53 does not answer for example.test.');
    expect(found!.message).toContain('timed out after 3000 ms');
  });

  it('names a signer that is not registered', () => {
    const group = consistentGroup();
    const found = adoptionFindings(group.state, [...MEMBERS, 'knot'], group.observed);
    expect(found.map((entry) => entry.code)).toContain('signer-unregistered');
  });
});

describe('(b) every DNSKEY RRset holds every ZSK/CSK of the group and its own KSK', () => {
  it('passes, and another member’s KSK served as well is no finding', () => {
    const group = consistentGroup();
    apexAt(group, 'bind').dnskey!.records.push(KEYS.pdns.ksk.dnskey);
    expect(withCode('dnskey-missing', group)).toEqual([]);
  });

  it('names the signer, the address and the DNSKEY record of a ZSK it lacks', () => {
    const group = consistentGroup();
    const served = apexAt(group, 'pdns', 1).dnskey!;
    served.records = served.records.filter((record) => record !== KEYS.bind.zsk.dnskey);
    const [found, ...more] = withCode('dnskey-missing', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain(
      `pdns at 192.0.2.3:53 does not serve the ZSK ${KEYS.bind.zsk.keyTag} of bind`,
    );
    expect(found!.message).toContain(
      `"example.test. 300 IN DNSKEY 256 3 13 ${KEYS.bind.zsk.dnskey.publicKey}"`,
    );
  });

  it('names an address that lacks the signer’s own KSK', () => {
    const group = consistentGroup();
    const served = apexAt(group, 'bind').dnskey!;
    served.records = served.records.filter((record) => record !== KEYS.bind.ksk.dnskey);
    expect(withCode('dnskey-missing', group)[0]!.message).toContain(
      `does not serve its own KSK ${KEYS.bind.ksk.keyTag}`,
    );
  });

  it('says when a member’s keys are not known yet', () => {
    const group = consistentGroup();
    group.state.signers.pdns!.keys = [];
    expect(withCode('keys-unknown', group)[0]!.message).toContain(
      "pdns's sidecar has recorded no keys",
    );
  });
});

describe('(c) every apex NS set is the union of the members’ names', () => {
  it('passes whatever the case of the names', () => {
    const group = consistentGroup();
    apexAt(group, 'bind').ns!.records = ['NS1.PDNS.TEST.', NS.bind];
    expect(withCode('apex-ns-mismatch', group)).toEqual([]);
  });

  it('names the address and the NS records to add and remove', () => {
    const group = consistentGroup();
    apexAt(group, 'bind').ns!.records = [NS.bind, 'ns.old.test.'];
    const [found, ...more] = withCode('apex-ns-mismatch', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('bind at 192.0.2.1:53 serves NS ns.old.test., ns1.bind.test.');
    expect(found!.message).toContain('add "example.test. 300 IN NS ns1.pdns.test."');
    expect(found!.message).toContain('remove "example.test. 300 IN NS ns.old.test."');
  });
});

describe('(d) the parent’s DS names every member’s KSK and no other key', () => {
  it('passes with a DS of another digest type for a key', () => {
    const group = consistentGroup();
    theDelegation(group).ds!.records = [ds(KEYS.bind.ksk), ds(KEYS.pdns.ksk, 4)];
    expect(withCode('ds-missing', group)).toEqual([]);
    expect(withCode('ds-unknown', group)).toEqual([]);
  });

  it('names the missing DS with the line to add at the parent', () => {
    const group = consistentGroup();
    theDelegation(group).ds!.records = [ds(KEYS.bind.ksk)];
    const [found, ...more] = withCode('ds-missing', group);
    expect(more).toEqual([]);
    const line = `example.test. 3600 IN DS ${KEYS.pdns.ksk.keyTag} 13 2 ${ds(KEYS.pdns.ksk).digest}`;
    expect(found!.message).toContain(`holds no DS for the KSK ${KEYS.pdns.ksk.keyTag} of pdns`);
    expect(found!.message).toContain(`add "${line}" at the parent`);
  });

  it('names a DS that matches no member key, and whose key it is', () => {
    const group = consistentGroup();
    const knotKsk = key('KSK', 9);
    group.state.signers.knot = {
      id: 'knot',
      kind: 'knot',
      nameServerNames: ['ns1.knot.test.'],
      endpoints: [],
      keys: [knotKsk],
    };
    theDelegation(group).ds!.records.push(ds(knotKsk));
    const [found, ...more] = withCode('ds-unknown', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain(`IN DS ${knotKsk.keyTag} 13 2`);
    expect(found!.message).toContain(
      `the KSK ${knotKsk.keyTag} of knot, which is not in the group`,
    );
  });

  it('refuses when the parent could not be read', () => {
    const group = consistentGroup();
    group.observed.delegation = { error: 'no answer from 192.0.2.53:53' };
    expect(findings(group).map((entry) => entry.code)).toEqual(['parent-unobserved']);
  });
});

describe('(e) the parent’s NS set is the union, and its servers agree', () => {
  it('passes with glue that points at the owner’s address', () => {
    const group = consistentGroup();
    theDelegation(group).glue = [{ name: NS.pdns, addresses: ['192.0.2.2', '192.0.2.3'], ttl: 5 }];
    expect(withCode('parent-ns-mismatch', group)).toEqual([]);
    expect(withCode('parent-inconsistent', group)).toEqual([]);
    expect(withCode('ns-address-mismatch', group)).toEqual([]);
  });

  it('names the NS to add at the parent', () => {
    const group = consistentGroup();
    theDelegation(group).ns!.records = [NS.bind];
    const [found, ...more] = withCode('parent-ns-mismatch', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('delegates example.test. to NS ns1.bind.test.');
    expect(found!.message).toContain('add "example.test. 3600 IN NS ns1.pdns.test."');
  });

  it('names the parent server that disagrees', () => {
    const group = consistentGroup();
    const parent = theDelegation(group);
    parent.consistent = false;
    parent.servers[1] = { ...parent.servers[1]!, consistent: false, ds: null };
    const [found, ...more] = withCode('parent-inconsistent', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('parent server 192.0.2.54:53 serves DS none');
  });

  it('names glue that points away from the owner of the NS name', () => {
    const group = consistentGroup();
    theDelegation(group).glue = [{ name: NS.pdns, addresses: ['192.0.2.1'], ttl: 5 }];
    expect(withCode('ns-address-mismatch', group)[0]!.message).toContain(
      'the parent gives ns1.pdns.test., an NS name of pdns, the address(es) 192.0.2.1',
    );
  });
});

describe('(f) CDS and CDNSKEY, where published, match the parent’s DS', () => {
  it('passes where none are published', () => {
    const group = consistentGroup();
    apexAt(group, 'bind').cds = null;
    apexAt(group, 'bind').cdnskey = null;
    expect(withCode('cds-mismatch', group)).toEqual([]);
    expect(withCode('cdnskey-mismatch', group)).toEqual([]);
  });

  it('names CDS that a scanner would put in place of the DS', () => {
    const group = consistentGroup();
    apexAt(group, 'pdns').cds!.records = [ds(KEYS.pdns.ksk)];
    const [found, ...more] = withCode('cds-mismatch', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('pdns at 192.0.2.2:53 publishes CDS that differ');
    expect(found!.message).toContain(`IN DS ${KEYS.bind.ksk.keyTag} 13 2`);
    expect(found!.message).toContain('has no CDS there');
  });

  it('names CDNSKEY for a key the parent has no DS for', () => {
    const group = consistentGroup();
    apexAt(group, 'bind').cdnskey!.records.push(KEYS.bind.zsk.dnskey);
    const [found, ...more] = withCode('cdnskey-mismatch', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain(
      `"example.test. 300 IN CDNSKEY 256 3 13 ${KEYS.bind.zsk.dnskey.publicKey}" has no DS at the parent`,
    );
  });
});

describe('(g) the recorded content digests agree', () => {
  it('passes when a member recorded no digest (nothing to compare)', () => {
    const group = consistentGroup();
    delete group.state.signers.pdns!.content;
    group.state.signers.bind!.content = { ...CONTENT, digest: 'cd'.repeat(48) };
    expect(withCode('content-mismatch', group)).toEqual([]);
  });

  it('names the signers whose content differs', () => {
    const group = consistentGroup();
    group.state.signers.pdns!.content = { ...CONTENT, digest: 'cd'.repeat(48), serial: 7 };
    const [found, ...more] = withCode('content-mismatch', group);
    expect(more).toEqual([]);
    expect(found!.message).toContain('pdns serves different zone content than bind');
    expect(found!.message).toContain('at serial 7');
  });
});
