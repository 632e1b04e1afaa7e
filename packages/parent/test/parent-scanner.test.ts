/**
 * The parental agent's decision rules (draft-ietf-dnsop-cds-consistency, RFC 7344, RFC 8078,
 * RFC 7477), one rule per test, on crafted observations signed with real ECDSA P-256 keys
 * (algorithm 13) made with node:crypto.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { CsyncData } from '@chorus/core';
import { buildParentUpdate } from '../src/update.js';
import { isDeleteCdnskey, isDeleteCds } from '../src/scanner.js';
import { dsReferencesKey } from '../src/validation.js';
import {
  alpha,
  beta,
  bothDelegated,
  cdnskeyOf,
  cdsOf,
  codes,
  decide,
  delegation,
  DELETE_CDNSKEY,
  DELETE_CDS,
  down,
  gamma,
  NOW,
  observed,
  serve,
  type ServeOptions,
  twoProviders,
  ZONE,
  zsks,
} from './scanner-fixtures.js';

describe('RFC 8078 delete records', () => {
  it('recognises CDS 0 0 0 00 and CDNSKEY 0 3 0 AA== only', () => {
    expect(isDeleteCds(DELETE_CDS)).toBe(true);
    expect(isDeleteCds({ ...DELETE_CDS, digest: '' })).toBe(true);
    expect(isDeleteCds(alpha.ds())).toBe(false);
    expect(isDeleteCdnskey(DELETE_CDNSKEY)).toBe(true);
    expect(isDeleteCdnskey(alpha.ksk.dnskey)).toBe(false);
  });

  it('matches a SHA-1 CDS to its key (digest type 1, which computeDs does not make)', () => {
    const rdata = Buffer.alloc(4);
    rdata.writeUInt16BE(alpha.ksk.dnskey.flags, 0);
    rdata[2] = 3;
    rdata[3] = 13;
    const owner = Buffer.from([7, ...Buffer.from('example'), 4, ...Buffer.from('test'), 0]);
    const digest = createHash('sha1')
      .update(owner)
      .update(rdata)
      .update(Buffer.from(alpha.ksk.dnskey.publicKey, 'base64'))
      .digest('hex')
      .toUpperCase();
    const sha1 = { keyTag: alpha.ksk.tag, algorithm: 13, digestType: 1, digest };
    expect(dsReferencesKey(ZONE, sha1, alpha.ksk.dnskey)).toBe(true);
    expect(dsReferencesKey(ZONE, sha1, beta.ksk.dnskey)).toBe(false);
    expect(
      dsReferencesKey(ZONE, { ...sha1, digest: digest.replace(/^./, '0') }, alpha.ksk.dnskey),
    ).toBe(digest.startsWith('0'));
  });
});

describe('CDS/CDNSKEY: no signal and status quo', () => {
  it('does nothing when no server publishes CDS or CDNSKEY (NODATA everywhere)', () => {
    const decision = decide(twoProviders({}), bothDelegated);
    expect(decision.ds).toMatchObject({ action: 'none', status: 'no-signal' });
    expect(decision.ns).toMatchObject({ action: 'none', status: 'no-signal' });
  });

  it('does nothing when the requested DS set equals the current one', () => {
    const decision = decide(
      twoProviders({ cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha, beta) }),
      bothDelegated,
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'in-sync' });
  });

  it('does not need an unreachable server to confirm the status quo (draft §3)', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta) }), down(beta)),
      bothDelegated,
    );
    expect(decision.ds.status).toBe('no-signal');
    expect(codes(decision.ds.reasons)).toContain('server-unreachable');
  });
});

describe('CDS/CDNSKEY: a consistent, validated request is applied', () => {
  it('replaces the DS set with exactly the CDS set (ADD-SIGNER: beta joins alpha)', () => {
    const decision = decide(
      observed(
        serve(alpha, {
          foreign: zsks(beta),
          cds: cdsOf(alpha, beta),
          cdnskey: cdnskeyOf(alpha, beta),
        }),
      ),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ds.status).toBe('change');
    const expected = cdsOf(alpha, beta)
      .map((ds) => `${ds.keyTag} ${ds.digest}`)
      .sort();
    expect(decision.ds.records!.map((ds) => `${ds.keyTag} ${ds.digest}`).sort()).toEqual(expected);
    expect(codes(decision.ds.reasons)).toEqual(['change-requested']);
  });

  it('applies a request that both delegated providers make identically', () => {
    const decision = decide(
      twoProviders({ cds: cdsOf(alpha, beta, gamma), cdnskey: cdnskeyOf(alpha, beta, gamma) }),
      bothDelegated,
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ds.records).toHaveLength(3);
  });

  it('accepts CDS/CDNSKEY signed by a ZSK by default, but not under the strict ds-key policy', () => {
    const observations = observed(
      serve(alpha, {
        foreign: zsks(beta),
        cds: cdsOf(alpha, beta),
        cdnskey: cdnskeyOf(alpha, beta),
        cdsSigner: 'zsk',
      }),
    );
    const current = delegation(cdsOf(alpha), [alpha.nameserver]);
    expect(decide(observations, current).ds.action).toBe('replace');
    const strict = decide(observations, current, { cdsSigner: 'ds-key' });
    expect(strict.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(strict.ds.reasons)).toEqual(['signal-not-validated', 'signal-not-validated']);
  });

  it('computes the DS from CDNSKEY when policy drops the CDS digest type', () => {
    const sha384 = [alpha.ds(4), beta.ds(4)];
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), cds: sha384, cdnskey: cdnskeyOf(alpha, beta) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
      { digestTypes: [2] },
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ds.records!.map((ds) => ds.digestType)).toEqual([2, 2]);
  });

  it('refuses when digest policy leaves a key without a DS and there is no CDNSKEY', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), cds: [alpha.ds(4), beta.ds(4)] })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
      { digestTypes: [2], cdsCdnskey: 'either' },
    );
    expect(decision.ds.status).toBe('refused');
    expect(codes(decision.ds.reasons)).toEqual(['digest-policy']);
  });

  it('accepts CDNSKEY alone under the `either` policy and computes SHA-256 DS', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), cdnskey: cdnskeyOf(alpha, beta) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
      { cdsCdnskey: 'either' },
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ds.records!.map((ds) => ds.keyTag).sort()).toEqual(
      [alpha.ksk.tag, beta.ksk.tag].sort(),
    );
  });

  it('deletes the DS RRset when every server consistently asks for it (RFC 8078 §4)', () => {
    const decision = decide(
      twoProviders({ cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] }),
      bothDelegated,
    );
    expect(decision.ds).toMatchObject({ action: 'delete', status: 'change' });
    expect(decision.ds.records).toBeUndefined();
  });

  it('treats a delete request as in sync when the parent has no DS', () => {
    const decision = decide(
      observed(serve(alpha, { cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] })),
      delegation([], [alpha.nameserver]),
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'in-sync' });
  });
});

describe('CDS/CDNSKEY consistency (draft §3.1): any inconsistency means no change', () => {
  it('refuses a key in CDS but not in CDNSKEY, naming the server and the record', () => {
    const decision = decide(
      observed(
        serve(alpha, { foreign: zsks(beta), cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha) }),
      ),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    const [mismatch] = decision.ds.reasons;
    expect(mismatch?.code).toBe('cds-cdnskey-mismatch');
    expect(mismatch?.servers).toEqual(['192.0.2.1:53 (ns1.alpha.example.)']);
    expect(mismatch?.records).toEqual([`${ZONE} CDS ${beta.ds().keyTag} 13 2 ${beta.ds().digest}`]);
  });

  it('refuses a key in CDNSKEY but not in CDS', () => {
    const decision = decide(
      observed(serve(alpha, { cds: cdsOf(alpha), cdnskey: cdnskeyOf(alpha, beta) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['cds-cdnskey-mismatch']);
    expect(decision.ds.reasons[0]!.message).toContain(`CDNSKEY ${beta.ksk.tag} have no CDS`);
  });

  it('refuses CDS without CDNSKEY under the default `both` policy', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), cds: cdsOf(alpha, beta) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['cds-cdnskey-mismatch']);
  });

  it('refuses a key that one server references and another does not', () => {
    const decision = decide(
      observed(
        serve(alpha, {
          foreign: zsks(beta),
          cds: cdsOf(alpha, beta, gamma),
          cdnskey: cdnskeyOf(alpha, beta, gamma),
        }),
        serve(beta, {
          foreign: zsks(alpha),
          cds: cdsOf(alpha, beta),
          cdnskey: cdnskeyOf(alpha, beta),
        }),
      ),
      bothDelegated,
    );
    expect(decision.ds.status).toBe('refused');
    const [inconsistent] = decision.ds.reasons;
    expect(inconsistent?.code).toBe('inconsistent');
    expect(inconsistent?.servers).toEqual(['198.51.100.1:53 (ns1.beta.example.)']);
    expect(inconsistent?.records[0]).toContain(`${ZONE} CDNSKEY 257 3 13`);
  });

  it('refuses one provider removing the other’s key (the multi-provider DS breakage, Appendix A.3)', () => {
    const decision = decide(
      twoProviders(
        { cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha, beta) },
        { cds: cdsOf(beta), cdnskey: cdnskeyOf(beta) },
      ),
      bothDelegated,
    );
    expect(decision.ds.action).toBe('none');
    expect(codes(decision.ds.reasons)).toEqual(['inconsistent']);
  });

  it('refuses a delete request at one server against NODATA at another', () => {
    const decision = decide(
      twoProviders({ cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] }, { cds: null, cdnskey: null }),
      bothDelegated,
    );
    expect(decision.ds.status).toBe('refused');
    expect(decision.ds.reasons[0]!.message).toMatch(
      /delete request.*NODATA|NODATA.*delete request/,
    );
  });

  it('refuses a delete request at one server against a DS update at another', () => {
    const decision = decide(
      twoProviders(
        { cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] },
        { cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha, beta) },
      ),
      bothDelegated,
    );
    expect(codes(decision.ds.reasons)).toEqual(['inconsistent']);
  });

  it('refuses a delete record that is not alone in its RRset', () => {
    const decision = decide(
      observed(serve(alpha, { cds: [DELETE_CDS, alpha.ds()], cdnskey: [DELETE_CDNSKEY] })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['malformed-delete']);
  });

  it('refuses CDS asking for deletion while CDNSKEY lists keys', () => {
    const decision = decide(
      observed(serve(alpha, { cds: [DELETE_CDS], cdnskey: cdnskeyOf(alpha) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['cds-cdnskey-mismatch']);
  });
});

describe('CDS/CDNSKEY: every delegated server must answer and validate', () => {
  const request = { cds: cdsOf(alpha, beta, gamma), cdnskey: cdnskeyOf(alpha, beta, gamma) };

  it('refuses a change while a delegated server is unreachable', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), ...request }), down(beta)),
      bothDelegated,
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(decision.ds.reasons).toEqual([
      expect.objectContaining({
        code: 'server-unreachable',
        servers: ['198.51.100.1:53 (ns1.beta.example.)'],
      }),
    ]);
  });

  it('refuses a change while a delegated server answers garbage', () => {
    const decision = decide(
      observed(serve(alpha, { foreign: zsks(beta), ...request }), down(beta, 'bad-response')),
      bothDelegated,
    );
    expect(codes(decision.ds.reasons)).toEqual(['server-bad-response']);
  });

  it('refuses a change while a delegated NS name has no address', () => {
    const observations = observed(serve(alpha, { foreign: zsks(beta), ...request }));
    observations.unresolved.push({
      nameserver: beta.nameserver,
      inDelegation: true,
      error: 'no A or AAAA record',
    });
    const decision = decide(observations, bothDelegated);
    expect(codes(decision.ds.reasons)).toEqual(['server-unreachable']);
  });

  it('refuses unsigned CDS/CDNSKEY', () => {
    const decision = decide(twoProviders(request, { cdsSigner: 'none' }), bothDelegated);
    expect(codes(decision.ds.reasons)).toEqual(['signal-not-validated', 'signal-not-validated']);
    expect(decision.ds.reasons[0]!.message).toContain('unsigned');
  });

  it('refuses CDS signed by a key outside the server’s DNSKEY RRset', () => {
    const decision = decide(twoProviders(request, { cdsSigner: gamma.ksk }), bothDelegated);
    expect(decision.ds.status).toBe('refused');
    expect(codes(decision.ds.reasons)).toContain('signal-not-validated');
  });

  it('refuses when a server’s DNSKEY RRset is not authenticated by the current DS', () => {
    const decision = decide(
      twoProviders(request),
      delegation(cdsOf(alpha), [alpha.nameserver, beta.nameserver]),
    );
    expect(decision.ds.reasons).toEqual([
      expect.objectContaining({
        code: 'dnskey-not-validated',
        servers: ['198.51.100.1:53 (ns1.beta.example.)'],
      }),
    ]);
  });

  it('refuses an expired DNSKEY signature', () => {
    const decision = decide(
      twoProviders(request, { dnskeyValidity: { inception: NOW - 7200, expiration: NOW - 60 } }),
      bothDelegated,
    );
    expect(codes(decision.ds.reasons)).toEqual(['dnskey-not-validated']);
    expect(decision.ds.reasons[0]!.message).toContain('expired');
  });

  it('refuses without a current DS (initial enrollment needs RFC 9615)', () => {
    const decision = decide(
      observed(serve(alpha, { cds: cdsOf(alpha), cdnskey: cdnskeyOf(alpha) })),
      delegation([], [alpha.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['no-current-ds']);
  });
});

describe('CDS/CDNSKEY continuity (RFC 7344 §4.1): never break the delegation', () => {
  it('refuses a DS set that would not authenticate a delegated provider’s DNSKEY RRset', () => {
    // Both agree, validly, to drop alpha's KSK while alpha is still delegated.
    const decision = decide(
      twoProviders({ cds: cdsOf(beta), cdnskey: cdnskeyOf(beta) }),
      bothDelegated,
    );
    expect(decision.ds.status).toBe('refused');
    expect(decision.ds.reasons).toEqual([
      expect.objectContaining({
        code: 'would-break-delegation',
        servers: ['192.0.2.1:53 (ns1.alpha.example.)'],
      }),
    ]);
  });

  it('allows dropping a provider once it has left the delegation (REMOVE-SIGNER step 8)', () => {
    const decision = decide(
      observed(serve(beta, { cds: cdsOf(beta), cdnskey: cdnskeyOf(beta) })),
      delegation(cdsOf(alpha, beta), [beta.nameserver]),
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ds.records!.map((ds) => ds.keyTag)).toEqual([beta.ksk.tag]);
  });
});

describe('CSYNC (draft §3.2, RFC 7477)', () => {
  const csync = (flags: number, types: string[], serial = 0): CsyncData[] => [
    { serial, flags, types },
  ];
  const alphaOnly = delegation(cdsOf(alpha, beta), [alpha.nameserver]);
  const both = [alpha.nameserver, beta.nameserver];
  /** alpha (delegated) asks to add beta; beta is observed as a candidate. */
  function addBeta(alphaOptions: ServeOptions = {}, betaOptions: ServeOptions = {}) {
    return observed(
      serve(alpha, {
        foreign: zsks(beta),
        csync: csync(1, ['A', 'NS', 'AAAA']),
        ns: both,
        ...alphaOptions,
      }),
      serve(beta, { foreign: zsks(alpha), ns: both, inDelegation: false, ...betaOptions }),
    );
  }

  it('replaces the NS set with immediate set, and checks the added server', () => {
    const decision = decide(addBeta(), alphaOnly);
    expect(decision.ns).toMatchObject({
      action: 'replace',
      status: 'change',
      records: both.sort(),
    });
    expect(decision.ns.glue).toEqual([]);
    expect(decision.ds.status).toBe('no-signal');
  });

  it('does nothing without CSYNC, and when the NS set already matches', () => {
    expect(decide(observed(serve(alpha)), alphaOnly).ns.status).toBe('no-signal');
    const inSync = decide(
      observed(serve(alpha, { csync: csync(1, ['NS']) })),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(inSync.ns).toMatchObject({ action: 'none', status: 'in-sync' });
  });

  it('waits for approval when the immediate flag is clear', () => {
    const decision = decide(addBeta({ csync: csync(0, ['NS']) }), alphaOnly);
    expect(decision.ns.action).toBe('none');
    expect(codes(decision.ns.reasons)).toEqual(['csync-not-immediate']);
  });

  it('refuses unknown flags', () => {
    const decision = decide(addBeta({ csync: csync(1 | 4, ['NS']) }), alphaOnly);
    expect(codes(decision.ns.reasons)).toEqual(['csync-unknown-flags']);
  });

  it('refuses unknown types in the bitmap', () => {
    const decision = decide(addBeta({ csync: csync(1, ['NS', 'MX']) }), alphaOnly);
    expect(codes(decision.ns.reasons)).toEqual(['csync-unknown-types']);
  });

  it('refuses more than one CSYNC record', () => {
    const decision = decide(
      addBeta({ csync: [...csync(1, ['NS']), ...csync(1, ['NS', 'A'])] }),
      alphaOnly,
    );
    expect(codes(decision.ns.reasons)).toEqual(['csync-multiple-records']);
  });

  it('refuses a CSYNC at one server against NODATA at another', () => {
    const decision = decide(
      observed(
        serve(alpha, { foreign: zsks(beta), csync: csync(1, ['NS']), ns: both }),
        serve(beta, { foreign: zsks(alpha), ns: both }),
      ),
      bothDelegated,
    );
    expect(codes(decision.ns.reasons)).toEqual(['inconsistent']);
  });

  it('refuses different type bitmaps or immediate flags across servers', () => {
    const three = [...both, gamma.nameserver];
    for (const betaCsync of [csync(1, ['NS', 'A']), csync(0, ['NS'])]) {
      const decision = decide(
        observed(
          serve(alpha, { foreign: zsks(beta), csync: csync(1, ['NS']), ns: three }),
          serve(beta, { foreign: zsks(alpha), csync: betaCsync, ns: three }),
        ),
        bothDelegated,
      );
      expect(codes(decision.ns.reasons)).toEqual(['inconsistent']);
      expect(decision.ns.reasons[0]!.message).toContain('immediate flag or type bitmap differ');
    }
  });

  it('refuses different NS sets across servers (the multi-provider NS breakage)', () => {
    const decision = decide(
      observed(
        serve(alpha, { foreign: zsks(beta), csync: csync(1, ['NS']), ns: [alpha.nameserver] }),
        serve(beta, { foreign: zsks(alpha), csync: csync(1, ['NS']), ns: both }),
      ),
      bothDelegated,
    );
    expect(codes(decision.ns.reasons)).toEqual(['inconsistent']);
    expect(decision.ns.reasons[0]!.message).toContain('apex NS RRsets differ');
  });

  it('never applies an empty NS set', () => {
    const decision = decide(
      observed(serve(alpha, { csync: csync(1, ['NS']), ns: null })),
      alphaOnly,
    );
    expect(codes(decision.ns.reasons)).toEqual(['empty-ns-set']);
  });

  it('evaluates soaminimum per server: different serials per provider are fine', () => {
    const serialFive = csync(1 | 2, ['NS'], 5);
    const decision = decide(
      observed(
        serve(alpha, { foreign: zsks(beta), csync: serialFive, ns: both, soaSerial: 7 }),
        serve(beta, { foreign: zsks(alpha), csync: serialFive, ns: both, soaSerial: 2_000_000 }),
      ),
      delegation(cdsOf(alpha, beta), [alpha.nameserver, beta.nameserver, gamma.nameserver]),
    );
    expect(decision.ns.action).toBe('replace');
  });

  it('refuses when the soaminimum judgements differ, and when no server reaches the serial', () => {
    const serialFive = csync(1 | 2, ['NS'], 5);
    const mixed = decide(
      observed(
        serve(alpha, { foreign: zsks(beta), csync: serialFive, ns: both, soaSerial: 4 }),
        serve(beta, { foreign: zsks(alpha), csync: serialFive, ns: both, soaSerial: 9 }),
      ),
      delegation(cdsOf(alpha, beta), [alpha.nameserver, beta.nameserver, gamma.nameserver]),
    );
    expect(codes(mixed.ns.reasons)).toEqual(['inconsistent']);
    const low = decide(addBeta({ csync: serialFive, soaSerial: 4 }), alphaOnly);
    expect(codes(low.ns.reasons)).toEqual(['csync-soa-serial']);
    // Without soaminimum, the serial field is ignored (model 2: 0 is fine).
    expect(decide(addBeta({ csync: csync(1, ['NS'], 0), soaSerial: 4 }), alphaOnly).ns.action).toBe(
      'replace',
    );
  });

  it('tries again later when the SOA serial changes during the scan (RFC 7477 §3.1)', () => {
    const decision = decide(addBeta({ soaSerial: 10, soaSerialAfter: 11 }), alphaOnly);
    expect(codes(decision.ns.reasons)).toEqual(['soa-changed-during-scan']);
  });

  it('refuses an unsigned CSYNC or NS RRset', () => {
    const decision = decide(addBeta({ csyncSigner: 'none' }), alphaOnly);
    expect(decision.ns.status).toBe('refused');
    expect(codes(decision.ns.reasons)).toEqual(['signal-not-validated', 'signal-not-validated']);
  });

  it('refuses adding a nameserver whose DNSKEY RRset the DS would not authenticate', () => {
    const decision = decide(addBeta(), delegation(cdsOf(alpha), [alpha.nameserver]));
    expect(decision.ns.reasons).toEqual([
      expect.objectContaining({
        code: 'would-break-delegation',
        servers: ['198.51.100.1:53 (ns1.beta.example.)'],
      }),
    ]);
  });

  it('accepts that nameserver when the same scan adds its DS', () => {
    const decision = decide(
      addBeta({ cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha, beta) }),
      delegation(cdsOf(alpha), [alpha.nameserver]),
    );
    expect(decision.ds.action).toBe('replace');
    expect(decision.ns.action).toBe('replace');
  });

  it('refuses adding a nameserver that was not observed or does not answer', () => {
    const notObserved = observed(
      serve(alpha, { foreign: zsks(beta), csync: csync(1, ['NS']), ns: both }),
    );
    notObserved.unresolved.push({
      nameserver: beta.nameserver,
      inDelegation: false,
      error: 'no A or AAAA record',
    });
    expect(codes(decide(notObserved, alphaOnly).ns.reasons)).toEqual(['would-break-delegation']);
    const silent = observed(
      serve(alpha, { foreign: zsks(beta), csync: csync(1, ['NS']), ns: both }),
      { ...down(beta), inDelegation: false },
    );
    expect(decide(silent, alphaOnly).ns.reasons[0]!.message).toContain('does not serve');
  });

  describe('glue for in-bailiwick names (RFC 7477 §3.2.2)', () => {
    const inside = `ns2.${ZONE}`;
    const withInside = [alpha.nameserver, inside];

    it('copies A and AAAA for an in-bailiwick name, ignoring out-of-bailiwick names', () => {
      const hosts = { [inside]: { a: ['192.0.2.53'], aaaa: ['2001:db8::53'] } };
      const decision = decide(
        observed(serve(alpha, { csync: csync(1, ['A', 'NS', 'AAAA']), ns: withInside, hosts }), {
          ...serve(alpha, { csync: csync(1, ['A', 'NS', 'AAAA']), ns: withInside, hosts }),
          nameserver: inside,
          address: '192.0.2.53',
          server: '192.0.2.53:53',
          inDelegation: false,
        }),
        delegation(cdsOf(alpha), [alpha.nameserver]),
      );
      expect(decision.ns.action).toBe('replace');
      expect(decision.ns.glue).toEqual([
        { name: inside, addresses: ['192.0.2.53', '2001:db8::53'] },
      ]);
    });

    it('refuses an in-bailiwick name without address records', () => {
      const decision = decide(
        observed(serve(alpha, { csync: csync(1, ['A', 'NS', 'AAAA']), ns: withInside, hosts: {} })),
        delegation(cdsOf(alpha), [alpha.nameserver]),
      );
      expect(codes(decision.ns.reasons)).toEqual(['missing-glue']);
    });

    it('refuses glue that differs between servers', () => {
      const decision = decide(
        observed(
          serve(alpha, {
            foreign: zsks(beta),
            csync: csync(1, ['A', 'NS']),
            ns: withInside,
            hosts: { [inside]: { a: ['192.0.2.53'] } },
          }),
          serve(beta, {
            foreign: zsks(alpha),
            csync: csync(1, ['A', 'NS']),
            ns: withInside,
            hosts: { [inside]: { a: ['192.0.2.54'] } },
          }),
        ),
        bothDelegated,
      );
      expect(codes(decision.ns.reasons)).toEqual(['inconsistent']);
      expect(decision.ns.reasons[0]!.message).toContain(`${inside} A differs`);
    });
  });
});

describe('buildParentUpdate', () => {
  const parentZone = 'example.';
  const child = 'shop.example.';
  const base = {
    zone: child,
    observedAt: '2027-01-15T08:00:00.000Z',
    servers: [],
  };
  const current = {
    ds: {
      name: child,
      type: 'DS' as const,
      class: 'IN' as const,
      ttl: 3600,
      records: [alpha.ds()],
      signatures: [],
    },
    ns: {
      name: child,
      type: 'NS' as const,
      class: 'IN' as const,
      ttl: 7200,
      records: ['ns1.shop.example.'],
      signatures: [],
    },
    glue: [{ name: 'ns1.shop.example.', addresses: ['192.0.2.1'], ttl: 7200 }],
  };

  it('returns null when nothing changes', () => {
    const none = { action: 'none' as const, status: 'in-sync' as const, reasons: [] };
    expect(
      buildParentUpdate({
        parentZone,
        decision: { ...base, ds: none, ns: none },
        delegation: current,
        ttl: 30,
      }),
    ).toBeNull();
  });

  it('pins the current RRsets, replaces DS with its TTL, and rewrites NS and in-bailiwick glue', () => {
    const update = buildParentUpdate({
      parentZone,
      decision: {
        ...base,
        ds: { action: 'replace', status: 'change', records: [alpha.ds(), beta.ds()], reasons: [] },
        ns: {
          action: 'replace',
          status: 'change',
          records: ['ns.other.example.', 'ns2.shop.example.'],
          glue: [{ name: 'ns2.shop.example.', addresses: ['192.0.2.2', '2001:db8::2'] }],
          reasons: [],
        },
      },
      delegation: current,
      ttl: 30,
    })!;
    expect(update.zone).toBe(parentZone);
    expect(update.prerequisites.map((item) => item.kind)).toEqual([
      'rrset-exists-with-value',
      'rrset-exists-with-value',
    ]);
    const operations = update.operations.map((operation) =>
      operation.kind === 'add'
        ? `add ${operation.record.name} ${operation.record.ttl} ${operation.record.type}`
        : operation.kind === 'delete-rrset'
          ? `delete ${operation.name} ${operation.type}`
          : operation.kind,
    );
    expect(operations).toEqual([
      `delete ${child} DS`,
      `add ${child} 3600 DS`,
      `add ${child} 3600 DS`,
      `delete ${child} NS`,
      `add ${child} 7200 NS`,
      `add ${child} 7200 NS`,
      'delete ns1.shop.example. A',
      'delete ns1.shop.example. AAAA',
      'delete ns2.shop.example. A',
      'delete ns2.shop.example. AAAA',
      'add ns2.shop.example. 7200 A',
      'add ns2.shop.example. 7200 AAAA',
    ]);
  });

  it('deletes the whole DS RRset for an RFC 8078 delete', () => {
    const update = buildParentUpdate({
      parentZone,
      decision: {
        ...base,
        ds: { action: 'delete', status: 'change', reasons: [] },
        ns: { action: 'none', status: 'no-signal', reasons: [] },
      },
      delegation: current,
      ttl: 30,
    })!;
    expect(update.operations).toEqual([{ kind: 'delete-rrset', name: child, type: 'DS' }]);
  });
});
