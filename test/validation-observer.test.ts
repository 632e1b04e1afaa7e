import { afterAll, describe, expect, inject, it } from 'vitest';
import {
  createValidationObserver,
  validateViaProvider,
  type ProbeReport,
  type ValidationFinding,
} from '@chorus/observers';
import type { DsData } from '@chorus/core';
import { endpoint, labResolver, labServer } from '@chorus/lab/testing';

// The validation observer against the real lab, as it is in the steady state: only BIND's KSK has
// a DS at the parent, so only BIND validates; unbound pinned to each signer must agree with us.
const lab = inject('lab');
const zone = 'example.test.';
const providerIds = ['bind', 'powerdns', 'knot'] as const;

const trustAnchorDs: DsData[] = lab.trustAnchor.ds.map((entry) => ({
  keyTag: entry.keyTag,
  algorithm: entry.algorithm,
  digestType: entry.digestType,
  digest: entry.digest,
}));
const parentServers = [endpoint(labServer(lab, 'parent'))];
const providers = providerIds.map((id) => ({ id, server: endpoint(labServer(lab, id)) }));
const resolvers = [
  ...providerIds.map((id) => ({
    id: `resolver-${id}`,
    server: endpoint(labResolver(lab, `resolver-${id}`)),
    pinnedTo: id,
  })),
  { id: 'resolver-delegation', server: endpoint(labResolver(lab, 'resolver-delegation')) },
];

const findings: ValidationFinding[] = [];
const observer = createValidationObserver({
  zone,
  parentZone: lab.parentZone,
  trustAnchorDs,
  parentServers,
  providers,
  resolvers,
  onFinding: (finding) => findings.push(finding),
});

afterAll(async () => {
  await observer.shutdown?.();
});

describe('validateViaProvider against the lab', () => {
  it('BIND is secure for www and a nonexistent name; PowerDNS and Knot are bogus for lack of a DS', async () => {
    const common = { zone, parentZone: lab.parentZone, trustAnchorDs, parentServers };
    const bind = await validateViaProvider({
      ...common,
      name: `www.${zone}`,
      type: 'A',
      provider: providers[0]!.server,
    });
    expect(bind).toMatchObject({ status: 'secure', rcode: 'NOERROR' });
    expect(bind.chain).toHaveLength(4);
    const nx = await validateViaProvider({
      ...common,
      name: `no-such-name.${zone}`,
      type: 'A',
      provider: providers[0]!.server,
    });
    expect(nx).toMatchObject({ status: 'secure', rcode: 'NXDOMAIN' });
    for (const provider of providers.slice(1)) {
      const verdict = await validateViaProvider({
        ...common,
        name: `www.${zone}`,
        type: 'A',
        provider: provider.server,
      });
      expect(verdict.status, provider.id).toBe('bogus');
      expect(verdict.reason).toContain(
        `DNSKEY RRset of ns ${provider.server.address}:${provider.server.port} not signed by any key with a DS at the parent`,
      );
      expect(verdict.chain).toHaveLength(2);
    }
  });

  it('a trust anchor that matches nothing makes every provider bogus at the parent', async () => {
    const verdict = await validateViaProvider({
      zone,
      parentZone: lab.parentZone,
      trustAnchorDs: trustAnchorDs.map((ds) => ({ ...ds, digest: '00'.repeat(32) })),
      parentServers,
      name: `www.${zone}`,
      type: 'A',
      provider: providers[0]!.server,
    });
    expect(verdict.status).toBe('bogus');
    expect(verdict.reason).toContain(`DNSKEY RRset of ${lab.parentZone} at parent`);
  });

  it('an unreachable provider is indeterminate', async () => {
    const verdict = await validateViaProvider({
      zone,
      parentZone: lab.parentZone,
      trustAnchorDs,
      parentServers,
      name: `www.${zone}`,
      type: 'A',
      // Nothing listens on port 9 of the parent's address.
      provider: { address: parentServers[0]!.address, port: 9 },
    });
    expect(verdict.status).toBe('indeterminate');
  });
});

describe('the validation observer against the lab', () => {
  let report: ProbeReport;

  it('probes every provider and resolver for www and a random nonexistent name', async () => {
    report = await observer.probeOnce();
    expect(report.probes).toHaveLength(2);
    expect(report.probes[0]).toEqual({ name: `www.${zone}`, type: 'A' });
    expect(report.probes[1]!.name).toMatch(/^chorus-nx-[0-9a-f]+\.example\.test\.$/);
    expect(report.verdicts).toHaveLength(6);
    expect(report.resolvers).toHaveLength(8);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('our verdicts: BIND secure, PowerDNS and Knot bogus, for both names', () => {
    const summary = report.verdicts.map((entry) => ({
      provider: entry.provider,
      name: entry.name,
      status: entry.verdict.status,
      rcode: entry.verdict.rcode,
    }));
    const [www, nx] = report.probes.map((probe) => probe.name);
    expect(summary).toEqual([
      { provider: 'bind', name: www, status: 'secure', rcode: 'NOERROR' },
      { provider: 'powerdns', name: www, status: 'bogus', rcode: 'NOERROR' },
      { provider: 'knot', name: www, status: 'bogus', rcode: 'NOERROR' },
      { provider: 'bind', name: nx, status: 'secure', rcode: 'NXDOMAIN' },
      { provider: 'powerdns', name: nx, status: 'bogus', rcode: 'NOERROR' },
      { provider: 'knot', name: nx, status: 'bogus', rcode: 'NOERROR' },
    ]);
  });

  it('unbound agrees: AD from resolver-bind, SERVFAIL from resolver-powerdns and resolver-knot', () => {
    const pinned = report.resolvers
      .filter((answer) => answer.pinnedTo !== undefined)
      .map((answer) => ({ resolver: answer.resolver, rcode: answer.rcode, ad: answer.ad }));
    expect(pinned).toEqual([
      { resolver: 'resolver-bind', rcode: 'NOERROR', ad: true },
      { resolver: 'resolver-powerdns', rcode: 'SERVFAIL', ad: false },
      { resolver: 'resolver-knot', rcode: 'SERVFAIL', ad: false },
      { resolver: 'resolver-bind', rcode: 'NXDOMAIN', ad: true },
      { resolver: 'resolver-powerdns', rcode: 'SERVFAIL', ad: false },
      { resolver: 'resolver-knot', rcode: 'SERVFAIL', ad: false },
    ]);
    expect(report.findings.filter((finding) => finding.kind === 'disagreement')).toEqual([]);
  });

  it('the findings are exactly the validation failures of PowerDNS and Knot, also given to onFinding', () => {
    const [www, nx] = report.probes.map((probe) => probe.name);
    expect(
      report.findings.map((finding) => ({
        kind: finding.kind,
        provider: finding.provider,
        name: finding.name,
        type: finding.type,
      })),
    ).toEqual([
      { kind: 'validation-failure', provider: 'powerdns', name: www, type: 'A' },
      { kind: 'validation-failure', provider: 'knot', name: www, type: 'A' },
      { kind: 'validation-failure', provider: 'powerdns', name: nx, type: 'A' },
      { kind: 'validation-failure', provider: 'knot', name: nx, type: 'A' },
    ]);
    for (const finding of report.findings) {
      expect(finding.detail).toContain('not signed by any key with a DS at the parent');
      expect(finding.resolver).toBeUndefined();
    }
    expect(findings).toEqual(report.findings);
  });
});
