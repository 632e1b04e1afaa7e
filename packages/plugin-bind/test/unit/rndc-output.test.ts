import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { SignerCommandError } from '@chorus/core';
import {
  parseCheckDs,
  parseDnssecStatus,
  parseZoneStatus,
  summarizeStates,
} from '../../src/index.js';

// Every fixture is real rndc output captured from BIND 9.18.49 (Debian 12) on 2026-11-22:
// the lab's signer for conformance.test., and a scratch named with an inline-signing zone, a
// non-dynamic (inline) zone, a zone without dnssec-policy and an update-policy zone with a CSK.
const fixture = (name: string) => readFile(new URL(`fixtures/${name}`, import.meta.url), 'utf8');

function commandError(run: () => unknown): SignerCommandError {
  try {
    run();
  } catch (error) {
    expect(SignerCommandError.isInstance(error)).toBe(true);
    return error as SignerCommandError;
  }
  throw new Error('expected a SignerCommandError');
}

describe('rndc zonestatus', () => {
  it('reads a dynamic, signed zone without inline-signing (the lab signer)', async () => {
    expect(parseZoneStatus(await fixture('zonestatus.txt'))).toEqual({
      name: 'conformance.test',
      type: 'primary',
      secure: true,
      inlineSigning: false,
      dynamic: true,
      keyMaintenance: 'automatic',
      serial: 4,
    });
  });

  it('sees inline-signing, even though the raw side of the zone is dynamic', async () => {
    const status = parseZoneStatus(await fixture('zonestatus-inline-signing.txt'));
    expect(status).toMatchObject({ inlineSigning: true, dynamic: true, secure: true });
  });

  it('sees a zone that is not dynamic', async () => {
    const status = parseZoneStatus(await fixture('zonestatus-not-dynamic.txt'));
    expect(status).toMatchObject({ dynamic: false, inlineSigning: true });
  });

  it('sees an unsigned zone (no dnssec-policy): no inline-signing line at all', async () => {
    const status = parseZoneStatus(await fixture('zonestatus-no-policy.txt'));
    expect(status).toMatchObject({ secure: false, inlineSigning: false, dynamic: true });
    expect(status.keyMaintenance).toBeUndefined();
  });

  it('refuses text that is not a zone status', async () => {
    // rndc exits 1 here (the wrapper reports that); the parser still refuses the text.
    const text = await fixture('zonestatus-no-such-zone.txt');
    expect(commandError(() => parseZoneStatus(text)).message).toMatch(/no matching zone/);
    expect(() => parseZoneStatus('rndc: connect failed')).toThrow(/unexpected zonestatus output/);
  });
});

describe('rndc dnssec -status', () => {
  it('lists the own KSK and ZSK with their states', async () => {
    const status = parseDnssecStatus(await fixture('dnssec-status.txt'));
    expect(status.policy).toBe('chorus');
    expect(status.keys).toEqual([
      {
        keyTag: 58940,
        algorithmName: 'ECDSAP256SHA256',
        algorithm: 13,
        role: 'KSK',
        published: true,
        states: [
          ['goal', 'omnipresent'],
          ['dnskey', 'omnipresent'],
          ['ds', 'rumoured'],
          ['key rrsig', 'omnipresent'],
        ],
      },
      {
        keyTag: 38957,
        algorithmName: 'ECDSAP256SHA256',
        algorithm: 13,
        role: 'ZSK',
        published: true,
        states: [
          ['goal', 'omnipresent'],
          ['dnskey', 'omnipresent'],
          ['zone rrsig', 'omnipresent'],
        ],
      },
    ]);
    expect(summarizeStates(status.keys[0]!.states)).toBe(
      'goal omnipresent, dnskey omnipresent, ds rumoured, key rrsig omnipresent',
    );
  });

  it('reads a CSK', async () => {
    const status = parseDnssecStatus(await fixture('dnssec-status-csk.txt'));
    expect(status.policy).toBe('p');
    expect(status.keys).toHaveLength(1);
    expect(status.keys[0]).toMatchObject({ keyTag: 22998, role: 'CSK', algorithm: 13 });
    expect(summarizeStates(status.keys[0]!.states)).toBe(
      'goal omnipresent, dnskey rumoured, ds hidden, zone rrsig rumoured, key rrsig rumoured',
    );
  });

  it('turns "Zone does not have dnssec-policy" (exit 0) into policy null', async () => {
    expect(parseDnssecStatus(await fixture('dnssec-status-no-policy.txt'))).toEqual({
      policy: null,
      keys: [],
    });
  });

  it('refuses anything else', () => {
    const error = commandError(() => parseDnssecStatus('something unexpected'));
    expect(error.exitCode).toBe(0);
    expect(error.message).toMatch(/unexpected dnssec -status output/);
  });
});

describe('rndc dnssec -checkds', () => {
  it('reads a KSK marked published', async () => {
    expect(parseCheckDs(await fixture('checkds-key-published.txt'))).toEqual({
      state: 'published',
      keyTag: 58940,
      since: expect.stringMatching(
        /^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}\.\d{3}$/,
      ) as unknown,
    });
  });

  it('reads "all KSKs" marked published (no key in the answer)', async () => {
    const result = parseCheckDs(await fixture('checkds-all-published.txt'));
    expect(result.state).toBe('published');
    expect(result.keyTag).toBeUndefined();
  });

  it('reads a KSK marked withdrawn', async () => {
    expect(parseCheckDs(await fixture('checkds-key-withdrawn.txt'))).toMatchObject({
      state: 'withdrawn',
      keyTag: 58940,
    });
  });

  it('turns "no matching key found", printed with exit status 0, into a SignerCommandError', async () => {
    const text = await fixture('checkds-zsk-no-matching-key.txt');
    expect(text).toMatch(/Error executing checkds command: no matching key found/);
    const error = commandError(() =>
      parseCheckDs(text, ['rndc', 'dnssec', '-checkds', '-key', '38957', 'published', 'x']),
    );
    expect(error.exitCode).toBe(0);
    expect(error.isRetryable).toBe(false);
    expect(error.message).toMatch(/no matching key found/);
    expect(error.command).toContain('-checkds');
  });
});
