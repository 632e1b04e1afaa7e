/**
 * Every rule on the clean model 2 group (passes), then one seeded fault per rule (the negative
 * controls): the rule concerned fails or warns, naming the servers, and the others keep passing.
 */
import { describe, expect, it } from 'vitest';
import type { DnskeyData } from '@chorus/core';
import { keyTag } from '@chorus/dns';
import { evaluateAudit, type AuditReport, type CheckResult } from '../src/index.js';
import {
  aKsk,
  aZsk,
  bKsk,
  bZsk,
  dsOf,
  NOW,
  NS_A,
  NS_B,
  observe,
  PARENT,
  TTL,
  world,
  type World,
} from './helpers/world.js';

function audit(change: (w: World) => void = () => undefined): AuditReport {
  const w = world();
  change(w);
  return evaluateAudit(observe(w));
}

function row(report: AuditReport, id: string): CheckResult {
  const found = report.checks.find((check) => check.id === id);
  if (!found) throw new Error(`no check ${id}`);
  return found;
}

/** The ids of the checks that did not pass. */
function notPassing(report: AuditReport): Record<string, string> {
  return Object.fromEntries(
    report.checks
      .filter((check) => check.status !== 'pass')
      .map((check) => [check.id, check.status]),
  );
}

const messages = (check: CheckResult) => check.details.map((finding) => finding.message).join('\n');

describe('the clean model 2 group', () => {
  it('passes every check, one row per rule, each naming the servers', () => {
    const report = audit();
    expect(report.status).toBe('pass');
    expect(report.checks.map((check) => [check.id, check.status])).toEqual([
      ['reachable', 'pass'],
      ['dnskey-consistent', 'pass'],
      ['ds-ksk', 'pass'],
      ['cds-consistent', 'pass'],
      ['ns-agree', 'pass'],
      ['denial', 'pass'],
      ['signature-lifetimes', 'pass'],
      ['key-tags', 'pass'],
    ]);
    expect(row(report, 'dnskey-consistent').servers).toEqual([
      PARENT,
      '192.0.2.1:53',
      '192.0.2.2:53',
      '198.51.100.1:53',
    ]);
  });

  it('only warns when each provider keeps its own KSK out of the other RRset (RFC 8901 §2.1.2)', () => {
    const report = audit((w) => {
      w.a.dnskeys = [aKsk, aZsk, w.b.zsk];
      w.b.dnskeys = [bKsk, w.b.zsk, aZsk];
    });
    expect(notPassing(report)).toEqual({ 'dnskey-consistent': 'warn' });
    expect(report.status).toBe('warn');
    expect(messages(row(report, 'dnskey-consistent'))).toContain('nothing served needs it there');
  });
});

describe('negative controls: one fault per rule', () => {
  it('reachable: an unreachable child address and an unreachable parent are failure rows', () => {
    const child = audit((w) => (w.down = ['192.0.2.2']));
    expect(notPassing(child)).toEqual({ reachable: 'fail' });
    expect(row(child, 'reachable').servers).toEqual(['192.0.2.2:53']);
    const parent = audit((w) => (w.parentDown = true));
    expect(row(parent, 'reachable')).toMatchObject({ status: 'fail', servers: [PARENT] });
  });

  it("dnskey-consistent: b lacks a's ZSK, so what a serves does not validate with b's keys", () => {
    const report = audit((w) => (w.b.dnskeys = [aKsk, bKsk, w.b.zsk]));
    expect(notPassing(report)).toEqual({ 'dnskey-consistent': 'fail' });
    const check = row(report, 'dnskey-consistent');
    expect(messages(check)).toContain(
      `the DNSKEY RRset at 198.51.100.1:53 lacks ${aZsk.tag} (ZSK, algorithm 13), which signs`,
    );
    expect(check.servers).toEqual(['198.51.100.1:53', '192.0.2.1:53', '192.0.2.2:53']);
  });

  it('dnskey-consistent: CDS/CDNSKEY signed by a KSK the other RRset lacks only warn, data fails', () => {
    const kskOnly = (w: World) => {
      w.a.dnskeys = [aKsk, aZsk, bZsk];
      w.b.dnskeys = [bKsk, bZsk, aZsk];
    };
    const signals = audit((w) => {
      kskOnly(w);
      w.a.signalSigners = [aKsk];
    });
    expect(notPassing(signals)).toEqual({ 'dnskey-consistent': 'warn' });
    expect(messages(row(signals, 'dnskey-consistent'))).toContain(
      `the DNSKEY RRset at 198.51.100.1:53 lacks ${aKsk.tag} (KSK, algorithm 13), which signs example.test. CDS, example.test. CDNSKEY at 192.0.2.1:53, 192.0.2.2:53 with a KSK alone`,
    );
    const data = audit((w) => {
      kskOnly(w);
      w.a.signers = [aKsk];
    });
    expect(notPassing(data)).toEqual({ 'dnskey-consistent': 'fail' });
    expect(messages(row(data, 'dnskey-consistent'))).toContain(
      `the DNSKEY RRset at 198.51.100.1:53 lacks ${aKsk.tag} (KSK, algorithm 13), which signs example.test. SOA, example.test. NS, example.test. NSEC at 192.0.2.1:53, 192.0.2.2:53`,
    );
  });

  it("ds-ksk: without b's DS, b's DNSKEY RRset is authenticated by no DS", () => {
    const report = audit((w) => (w.parentDs = [dsOf(aKsk)]));
    expect(row(report, 'ds-ksk').status).toBe('fail');
    expect(messages(row(report, 'ds-ksk'))).toContain(
      'the DNSKEY RRset at 198.51.100.1:53 is authenticated by no DS',
    );
    // The CDS still asks for both DS: that is what the parent should do, so it passes.
    expect(notPassing(report)).toEqual({ 'ds-ksk': 'fail' });
  });

  it('ds-ksk: a DS for a key published nowhere is a warning', () => {
    const stray = { keyTag: 999, algorithm: 13, digestType: 2, digest: 'AB'.repeat(32) };
    const report = audit((w) => w.parentDs.push(stray));
    expect(notPassing(report)).toEqual({ 'ds-ksk': 'warn' });
    expect(messages(row(report, 'ds-ksk'))).toBe(
      'DS 999 (algorithm 13, digest type 2) matches no DNSKEY at any address',
    );
  });

  it('cds-consistent: a CDS that differs at one address', () => {
    const report = audit((w) => (w.b.cds = [dsOf(bKsk)]));
    const check = row(report, 'cds-consistent');
    expect(check.status).toBe('fail');
    expect(messages(check)).toContain('the CDS RRsets differ');
    expect(messages(check)).toContain(
      `198.51.100.1:53: CDS and CDNSKEY name different keys: CDNSKEY ${aKsk.tag} has no CDS`,
    );
    expect(notPassing(report)).toEqual({ 'cds-consistent': 'fail' });
  });

  it('cds-consistent: a CSYNC whose flags differ; its serial may differ', () => {
    const serialOnly = audit((w) => {
      w.a.csync = { serial: 1, flags: 1, types: ['NS', 'A', 'AAAA'] };
      w.b.csync = { serial: 7, flags: 1, types: ['NS', 'AAAA', 'A'] };
    });
    expect(notPassing(serialOnly)).toEqual({});
    const flags = audit((w) => {
      w.a.csync = { serial: 1, flags: 1, types: ['NS'] };
      w.b.csync = { serial: 1, flags: 0, types: ['NS'] };
    });
    expect(notPassing(flags)).toEqual({ 'cds-consistent': 'fail' });
  });

  it('cds-consistent: CDS naming only a, everywhere, would break b (continuity)', () => {
    const report = audit((w) => {
      for (const p of [w.a, w.b]) {
        p.cds = [dsOf(aKsk)];
        p.cdnskey = [aKsk.dnskey];
      }
      w.b.dnskeys = [bKsk, w.b.zsk, aZsk];
    });
    expect(messages(row(report, 'cds-consistent'))).toContain(
      'would leave the DNSKEY RRset at 198.51.100.1:53 unauthenticated (RFC 7344 §4.1)',
    );
  });

  it('cds-consistent: CDS without CDNSKEY is a warning', () => {
    const report = audit((w) => {
      w.a.cdnskey = [];
      w.b.cdnskey = [];
    });
    expect(notPassing(report)).toEqual({ 'cds-consistent': 'warn' });
  });

  it("ns-agree: b's apex NS set lacks a's name", () => {
    const report = audit((w) => (w.b.ns = [NS_B]));
    expect(notPassing(report)).toEqual({ 'ns-agree': 'fail' });
    expect(messages(row(report, 'ns-agree'))).toBe(
      `the apex NS RRset at 198.51.100.1:53 lacks ${NS_A} compared with the parent's (${NS_A} ${NS_B})`,
    );
  });

  it('denial: mixed methods warn, an unsigned denial fails', () => {
    const mixed = audit((w) => (w.b.denial = 'NSEC3'));
    expect(notPassing(mixed)).toEqual({ denial: 'warn' });
    expect(messages(row(mixed, 'denial'))).toContain('the denial method differs');
    const unsigned = audit((w) => (w.b.denial = 'none'));
    expect(notPassing(unsigned)).toEqual({ denial: 'fail' });
  });

  it('denial: different NSEC3PARAM at the two providers is a warning', () => {
    const report = audit((w) => {
      w.a.denial = 'NSEC3';
      w.b.denial = 'NSEC3';
      w.b.nsec3param = { hashAlgorithm: 1, flags: 0, iterations: 5, salt: 'AB' };
    });
    expect(notPassing(report)).toEqual({ denial: 'warn' });
    expect(messages(row(report, 'denial'))).toContain('NSEC3PARAM differs');
  });

  it('signature-lifetimes: an RRSIG that expires within its TTL, or has expired', () => {
    const soon = audit(
      (w) => (w.b.soaValidity = { inception: NOW - 3600, expiration: NOW + TTL - 1 }),
    );
    expect(notPassing(soon)).toEqual({ 'signature-lifetimes': 'fail' });
    expect(messages(row(soon, 'signature-lifetimes'))).toContain(
      `example.test. SOA at 198.51.100.1:53: RRSIG by ${bZsk.tag} expires at`,
    );
    const longTtl = audit((w) => (w.a.soaTtl = 30 * 86_400));
    expect(notPassing(longTtl)).toEqual({ 'signature-lifetimes': 'fail' });
    const expired = audit(
      (w) => (w.a.soaValidity = { inception: NOW - 7200, expiration: NOW - 1 }),
    );
    expect(messages(row(expired, 'signature-lifetimes'))).toContain('expired at');
  });

  it('key-tags: a second key with the tag of a ZSK', () => {
    const report = audit((w) => (w.b.extraKeys = [collidingWith(aZsk.dnskey)]));
    // The extra key is only at b: the DNSKEY RRsets differ too, which is only a warning.
    expect(notPassing(report)).toEqual({ 'key-tags': 'fail', 'dnskey-consistent': 'warn' });
    expect(row(report, 'key-tags').servers.sort()).toEqual(
      ['192.0.2.1:53', '192.0.2.2:53', '198.51.100.1:53'].sort(),
    );
    expect(messages(row(report, 'key-tags'))).toContain(
      `2 different DNSKEYs share the key tag ${aZsk.tag}`,
    );
  });
});

/** A different key with the same tag: swapping two public key octets two apart keeps the sum. */
function collidingWith(key: DnskeyData): DnskeyData {
  const bytes = Buffer.from(key.publicKey, 'base64');
  let index = 0;
  while (bytes[index] === bytes[index + 2]) index += 1;
  [bytes[index], bytes[index + 2]] = [bytes[index + 2]!, bytes[index]!];
  const twin = { ...key, publicKey: bytes.toString('base64') };
  expect(keyTag(twin)).toBe(keyTag(key));
  return twin;
}

describe('more faults', () => {
  it("ds-ksk: b's DNSKEY RRset signed by its ZSK alone, which has no DS", () => {
    const report = audit((w) => (w.b.ksk = w.b.zsk));
    expect(row(report, 'ds-ksk').status).toBe('fail');
    expect(messages(row(report, 'ds-ksk'))).toContain('198.51.100.1:53 is authenticated by no DS');
  });

  it('dnskey-consistent: an RRset changed after it was signed verifies with no key', () => {
    const observations = observe(world());
    const b = observations.children.at(-1)!;
    if (b.status !== 'answered') throw new Error('b down');
    b.data.ns!.records = [NS_B, NS_A];
    b.data.ns!.records.push('ns.forged.net.');
    const report = evaluateAudit(observations);
    expect(row(report, 'dnskey-consistent').status).toBe('fail');
    expect(messages(row(report, 'dnskey-consistent'))).toContain(
      `verifies no RRSIG (key tags ${bZsk.tag}) over example.test. NS at 198.51.100.1:53`,
    );
  });

  it('cds-consistent: a delete signal in CDS but keys in CDNSKEY', () => {
    const report = audit((w) => {
      for (const p of [w.a, w.b])
        p.cds = [{ keyTag: 0, algorithm: 0, digestType: 0, digest: '00' }];
    });
    expect(messages(row(report, 'cds-consistent'))).toContain(
      'one of CDS and CDNSKEY asks to delete the DS, the other does not',
    );
  });

  it('ns-agree: glue that differs from what the child serves for an in-zone NS name', () => {
    const w = world();
    const observations = observe(w);
    const inZone = `ns1.${observations.zone}`;
    const parent = observations.parent[0]!;
    if (parent.status !== 'answered') throw new Error('parent down');
    parent.ns!.records = [inZone];
    parent.glue = [{ name: inZone, addresses: ['192.0.2.1'], ttl: TTL }];
    for (const child of observations.children) {
      if (child.status !== 'answered') continue;
      child.data.ns!.records = [inZone];
      child.data.hosts = [
        {
          name: inZone,
          a: {
            name: inZone,
            type: 'A',
            class: 'IN',
            ttl: TTL,
            records: ['192.0.2.9'],
            signatures: [],
          },
          aaaa: null,
        },
      ];
    }
    const report = evaluateAudit(observations);
    expect(messages(row(report, 'ns-agree'))).toContain(
      `glue for ${inZone} at ${PARENT} (192.0.2.1) differs from what 192.0.2.1:53 serves (192.0.2.9)`,
    );
  });

  it('reachable: an NS name without an address', () => {
    const observations = observe(world());
    observations.unresolved.push({
      nameserver: 'ns.c.net.',
      inDelegation: true,
      error: 'no A or AAAA record',
    });
    const report = evaluateAudit(observations);
    expect(row(report, 'reachable')).toMatchObject({ status: 'fail', servers: ['ns.c.net.'] });
  });

  it('an unsigned zone: every DNSSEC rule is silent but ds-ksk, which says so', () => {
    const observations = observe(world());
    const parent = observations.parent[0]!;
    if (parent.status === 'answered') parent.ds = null;
    for (const child of observations.children) {
      if (child.status !== 'answered') continue;
      for (const key of ['dnskey', 'cds', 'cdnskey'] as const) child.data[key] = null;
      child.data.probe.authorities = [];
      for (const rrset of [child.data.soa!, child.data.ns!]) rrset.signatures = [];
    }
    const report = evaluateAudit(observations);
    expect(notPassing(report)).toEqual({ 'ds-ksk': 'warn' });
    expect(messages(row(report, 'ds-ksk'))).toContain('the zone is not signed');
  });
});
