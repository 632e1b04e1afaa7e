/**
 * RFC 9615 §4.2 on the parent side: a delegation without DS gets the DS set its servers ask for
 * only when every signalling name outside the child carries the same CDS and CDNSKEY, answered
 * with AD=1 by the validating resolver. Pure decisions on crafted observations.
 */
import { describe, expect, it } from 'vitest';
import type { DnskeyData, DsData, Rcode } from '@chorus/core';
import { signallingName } from '../src/observe-signals.js';
import type {
  BootstrapSignals,
  ChildObservations,
  SignalAnswer,
  SignalNameObservation,
} from '../src/types.js';
import {
  alpha,
  beta,
  cdnskeyOf,
  cdsOf,
  codes,
  decide,
  delegation,
  DELETE_CDNSKEY,
  DELETE_CDS,
  down,
  gamma,
  observed,
  Provider,
  serve,
  TTL,
  twoProviders,
  ZONE,
  zsks,
} from './scanner-fixtures.js';

const RESOLVER = '192.0.2.53:53';

interface AnswerOptions {
  ad?: boolean;
  rcode?: Rcode;
}

/** The resolver's answer for one signalling RRset: `null` records is NODATA (or NXDOMAIN). */
function answer<T extends 'CDS' | 'CDNSKEY'>(
  name: string,
  type: T,
  records: (T extends 'CDS' ? DsData : DnskeyData)[] | null,
  options: AnswerOptions = {},
): SignalAnswer<T> {
  const rrset = records
    ? { name, type, class: 'IN' as const, ttl: TTL, records, signatures: [] }
    : null;
  return {
    status: 'answered',
    rcode: options.rcode ?? 'NOERROR',
    ad: options.ad ?? true,
    rrset: rrset as Extract<SignalAnswer<T>, { status: 'answered' }>['rrset'],
  };
}

interface SignalOptions {
  cds?: DsData[] | null;
  cdnskey?: DnskeyData[] | null;
  cdsAnswer?: AnswerOptions;
  cdnskeyAnswer?: AnswerOptions;
  /** Replaces both answers (a resolver failure). */
  failure?: Extract<SignalAnswer<'CDS'>, { status: 'unreachable' | 'bad-response' }>;
}

/** What the resolver answers at one NS hostname's signalling name. */
function signalAt(
  nameserver: string,
  records: { cds: DsData[]; cdnskey: DnskeyData[] },
  options: SignalOptions = {},
): SignalNameObservation {
  const name = signallingName(ZONE, nameserver);
  if (options.failure) {
    return { nameserver, name, cds: options.failure, cdnskey: options.failure };
  }
  const cds = options.cds === undefined ? records.cds : options.cds;
  const cdnskey = options.cdnskey === undefined ? records.cdnskey : options.cdnskey;
  return {
    nameserver,
    name,
    cds: answer(name, 'CDS', cds, options.cdsAnswer),
    cdnskey: answer(name, 'CDNSKEY', cdnskey, options.cdnskeyAnswer),
  };
}

/** Signals at every provider's NS hostname, each as the apex; `special` overrides one hostname. */
function signals(
  providers: readonly Provider[],
  records: { cds: DsData[]; cdnskey: DnskeyData[] },
  special: Record<string, SignalOptions> = {},
): BootstrapSignals {
  return {
    resolver: RESOLVER,
    names: providers.map((provider) =>
      signalAt(provider.nameserver, records, special[provider.nameserver]),
    ),
    skipped: [],
  };
}

function withSignals(observations: ChildObservations, found: BootstrapSignals) {
  return { ...observations, signals: found };
}

const request = { cds: cdsOf(alpha, beta), cdnskey: cdnskeyOf(alpha, beta) };
const unsignedPair = delegation([], [alpha.nameserver, beta.nameserver]);
const pair = twoProviders(request);

function decidePair(special: Record<string, SignalOptions> = {}) {
  return decide(withSignals(pair, signals([alpha, beta], request, special)), unsignedPair);
}

function identities(records: readonly DsData[]): string[] {
  return records.map((ds) => `${ds.keyTag} ${ds.digestType} ${ds.digest}`).sort();
}

describe('RFC 9615: the signalling names authenticate an initial DS set', () => {
  it('names the signalling name _dsboot.<child>._signal.<ns>', () => {
    expect(signallingName('Example.Test.', 'NS1.Alpha.Example.')).toBe(
      '_dsboot.example.test._signal.ns1.alpha.example.',
    );
  });

  it('bootstraps the DS set of two providers', () => {
    const decision = decidePair();
    expect(decision.ds).toMatchObject({ action: 'replace', status: 'change' });
    expect(identities(decision.ds.records!)).toEqual(identities(cdsOf(alpha, beta)));
    expect(codes(decision.ds.reasons)).toEqual(['bootstrapped']);
    const [bootstrapped] = decision.ds.reasons;
    expect(bootstrapped!.message).toContain(signallingName(ZONE, alpha.nameserver));
    expect(bootstrapped!.message).toContain(signallingName(ZONE, beta.nameserver));
    expect(bootstrapped!.message).toContain(RESOLVER);
  });

  it('bootstraps the DS set of three providers', () => {
    const three = { cds: cdsOf(alpha, beta, gamma), cdnskey: cdnskeyOf(alpha, beta, gamma) };
    const observations = observed(
      serve(alpha, { foreign: zsks(beta, gamma), ...three }),
      serve(beta, { foreign: zsks(alpha, gamma), ...three }),
      serve(gamma, { foreign: zsks(alpha, beta), ...three }),
    );
    const decision = decide(
      withSignals(observations, signals([alpha, beta, gamma], three)),
      delegation([], [alpha.nameserver, beta.nameserver, gamma.nameserver]),
    );
    expect(decision.ds).toMatchObject({ action: 'replace', status: 'change' });
    expect(identities(decision.ds.records!)).toEqual(identities(cdsOf(alpha, beta, gamma)));
    expect(codes(decision.ds.reasons)).toEqual(['bootstrapped']);
  });

  it('applies the digest policy as for any CDS request', () => {
    const decision = decidePair();
    const computed = decide(withSignals(pair, signals([alpha, beta], request)), unsignedPair, {
      digestTypes: [4],
      cdnskeyDigestType: 4,
    });
    expect(decision.ds.records!.map((ds) => ds.digestType)).toEqual([2, 2]);
    expect(computed.ds.records!.map((ds) => ds.digestType)).toEqual([4, 4]);
  });
});

describe('RFC 9615: any failure refuses, naming the NS hostname and the signalling name', () => {
  const betaName = signallingName(ZONE, beta.nameserver);

  it('refuses an answer without AD=1', () => {
    const decision = decidePair({ [beta.nameserver]: { cdsAnswer: { ad: false } } });
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(decision.ds.reasons)).toEqual(['bootstrap-signal-not-authenticated']);
    expect(decision.ds.reasons[0]!.message).toContain(`${beta.nameserver}: ${betaName} CDS`);
    expect(decision.ds.reasons[0]!.servers).toEqual([beta.nameserver]);
  });

  it('refuses a signalling set that differs from the apex', () => {
    const decision = decidePair({ [beta.nameserver]: { cds: cdsOf(alpha) } });
    expect(decision.ds.status).toBe('refused');
    expect(codes(decision.ds.reasons)).toEqual(['bootstrap-signal-differs']);
    const [differs] = decision.ds.reasons;
    expect(differs!.message).toContain(betaName);
    expect(differs!.message).toContain(`only at the apex: ${ZONE} CDS ${beta.ds().keyTag}`);
  });

  it('refuses a tampered signalling CDS (one digest byte changed)', () => {
    const [first, second] = cdsOf(alpha, beta);
    const flipped = (first!.digest.startsWith('00') ? 'FF' : '00') + first!.digest.slice(2);
    const tampered = [{ ...first!, digest: flipped }, second!];
    const decision = decidePair({ [beta.nameserver]: { cds: tampered } });
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(decision.ds.reasons)).toEqual(['bootstrap-signal-differs']);
    const [differs] = decision.ds.reasons;
    expect(differs!.message).toContain(`${beta.nameserver}: ${betaName} CDS differs`);
    expect(differs!.records).toContain(`${betaName} CDS ${first!.keyTag} 13 2 ${flipped}`);
  });

  it('refuses NODATA at one signalling name, and says NXDOMAIN when it is one', () => {
    const nodata = decidePair({ [beta.nameserver]: { cdnskey: null } });
    expect(codes(nodata.ds.reasons)).toEqual(['bootstrap-signal-missing']);
    expect(nodata.ds.reasons[0]!.message).toContain(`${betaName} CDNSKEY is NODATA`);
    const nxdomain = decidePair({
      [alpha.nameserver]: {
        cds: null,
        cdnskey: null,
        cdsAnswer: { rcode: 'NXDOMAIN' },
        cdnskeyAnswer: { rcode: 'NXDOMAIN' },
      },
    });
    expect(codes(nxdomain.ds.reasons)).toEqual([
      'bootstrap-signal-missing',
      'bootstrap-signal-missing',
    ]);
    expect(nxdomain.ds.reasons[0]!.message).toContain('NXDOMAIN');
  });

  it('refuses when the resolver is unreachable or answers SERVFAIL', () => {
    const failure = { status: 'unreachable', error: 'timed out after 2000 ms' } as const;
    const unreachable = decidePair({
      [alpha.nameserver]: { failure },
      [beta.nameserver]: { failure },
    });
    expect(unreachable.ds.status).toBe('refused');
    expect(codes(unreachable.ds.reasons)).toEqual(
      Array<string>(4).fill('bootstrap-signal-unreachable'),
    );
    expect(unreachable.ds.reasons[0]!.message).toContain('timed out');
    const servfail = decidePair({
      [beta.nameserver]: { cds: null, cdsAnswer: { rcode: 'SERVFAIL', ad: false } },
    });
    expect(codes(servfail.ds.reasons)).toEqual(['bootstrap-signal-unreachable']);
    expect(servfail.ds.reasons[0]!.message).toContain('SERVFAIL');
  });

  it('refuses when every NS hostname is inside the child', () => {
    const inside = new Provider(`ns1.${ZONE}`, '192.0.2.10');
    const own = { cds: cdsOf(inside), cdnskey: cdnskeyOf(inside) };
    const decision = decide(
      withSignals(observed(serve(inside, own)), {
        resolver: RESOLVER,
        names: [],
        skipped: [inside.nameserver],
      }),
      delegation([], [inside.nameserver]),
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(decision.ds.reasons)).toEqual(['bootstrap-no-outside-ns']);
    expect(decision.ds.reasons[0]!.servers).toEqual([inside.nameserver]);
  });

  it('refuses apex RRsets that differ between servers, even with the same keys', () => {
    const extra = { cds: [...cdsOf(alpha, beta), alpha.ds(4)], cdnskey: cdnskeyOf(alpha, beta) };
    const observations = observed(
      serve(alpha, { foreign: zsks(beta), ...extra }),
      serve(beta, { foreign: zsks(alpha), ...request }),
    );
    const decision = decide(
      withSignals(observations, signals([alpha, beta], request)),
      unsignedPair,
    );
    expect(codes(decision.ds.reasons)).toEqual(['bootstrap-signal-differs']);
    expect(decision.ds.reasons[0]!.message).toContain('the apex CDS RRsets differ');
  });

  it('refuses signalling records that ask for deletion while the apex lists keys', () => {
    const decision = decidePair({
      [beta.nameserver]: { cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] },
    });
    expect(decision.ds.status).toBe('refused');
    expect(codes(decision.ds.reasons)).toEqual([
      'bootstrap-signal-differs',
      'bootstrap-signal-differs',
    ]);
  });

  it('never bootstraps from a delete request: with no DS there is nothing to delete', () => {
    const deletion = { cds: [DELETE_CDS], cdnskey: [DELETE_CDNSKEY] };
    const decision = decide(
      withSignals(twoProviders(deletion), signals([alpha, beta], deletion)),
      unsignedPair,
    );
    expect(decision.ds).toMatchObject({ action: 'none', status: 'in-sync' });
  });

  it('still needs every delegated server to answer, and consistent apex requests', () => {
    const oneDown = decide(
      withSignals(
        observed(serve(alpha, { foreign: zsks(beta), ...request }), down(beta)),
        signals([alpha, beta], request),
      ),
      unsignedPair,
    );
    expect(codes(oneDown.ds.reasons)).toEqual(['server-unreachable']);
    const inconsistent = decide(
      withSignals(
        twoProviders(request, { cds: cdsOf(alpha), cdnskey: cdnskeyOf(alpha) }),
        signals([alpha, beta], request),
      ),
      unsignedPair,
    );
    expect(codes(inconsistent.ds.reasons)).toEqual(['inconsistent']);
  });

  it('still refuses a DS set that would not authenticate a delegated server (continuity)', () => {
    const alphaOnly = { cds: cdsOf(alpha), cdnskey: cdnskeyOf(alpha) };
    const decision = decide(
      withSignals(twoProviders(alphaOnly), signals([alpha, beta], alphaOnly)),
      unsignedPair,
    );
    expect(codes(decision.ds.reasons)).toEqual(['would-break-delegation']);
    expect(decision.ds.reasons[0]!.servers).toEqual([`${beta.address}:53 (${beta.nameserver})`]);
  });
});

describe('RFC 9615: without signals, or switched off, the old refusal stays', () => {
  it('refuses without signal observations, pointing at the validating resolver', () => {
    const decision = decide(pair, unsignedPair);
    expect(decision.ds).toMatchObject({ action: 'none', status: 'refused' });
    expect(codes(decision.ds.reasons)).toEqual(['no-current-ds']);
    expect(decision.ds.reasons[0]!.message).toContain('validatingResolver');
  });

  it('refuses when policy switches bootstrapping off', () => {
    const decision = decide(withSignals(pair, signals([alpha, beta], request)), unsignedPair, {
      bootstrap: false,
    });
    expect(codes(decision.ds.reasons)).toEqual(['no-current-ds']);
    expect(decision.ds.reasons[0]!.message).toContain('switched off');
  });

  it('ignores signals once the parent has a DS (RFC 9615 is for unsigned delegations)', () => {
    const tampered = signals([alpha, beta], request, { [beta.nameserver]: { cds: null } });
    const decision = decide(
      withSignals(
        twoProviders({
          cds: cdsOf(alpha, beta, gamma),
          cdnskey: cdnskeyOf(alpha, beta, gamma),
        }),
        tampered,
      ),
      delegation(cdsOf(alpha, beta), [alpha.nameserver, beta.nameserver]),
    );
    expect(codes(decision.ds.reasons)).toEqual(['change-requested']);
  });
});
