import { readFile } from 'node:fs/promises';
import { describe, expect, inject, it } from 'vitest';
import { SignerCommandError, SignerConfigurationError, type SigningKey } from '@chorus/core';
import { dnskeyIdentity, query, readApexFromServer } from '@chorus/dns';
import { ROLL_ZONE, endpoint, labServer, waitUntil } from '@chorus/lab/testing';
import { createBindSigner } from '../../src/index.js';
import { readZoneKeyFiles } from '../../src/key-files.js';
import { bindConfigFor, scratchDirectory } from './helpers.js';

// A ZSK roll of the lab's BIND signer in roll.test.: Chorus starts it with rndc dnssec
// -rollover, BIND's dnssec-policy times the rest, and the timing BIND applies is the one
// rolloverTiming reads from named.conf. The conformance suite's key-roll group starts a roll in
// the same zone and leaves it to BIND, so this file first waits until that one has finished.
const lab = inject('lab');
const zone = ROLL_ZONE;
const bind = labServer(lab, 'bind');
const server = endpoint(bind);
const config = bindConfigFor(lab, 'bind');
const signer = createBindSigner(config);
// The lab's BIND policy (packages/lab/src/bind.ts): dnskey-ttl = TTL, publish-safety 15, zone-propagation-delay 5.
const ipub = lab.ttl + 15 + 5;

let predecessor: SigningKey;
let successor: SigningKey;
let soaDoubleSigned: boolean;

async function servedTags(): Promise<number[]> {
  const apex = await readApexFromServer(server, zone);
  const own = await signer.listOwnKeys(zone, {});
  const served = new Set((apex.dnskey?.records ?? []).map(dnskeyIdentity));
  return own.filter((key) => served.has(dnskeyIdentity(key.dnskey))).map((key) => key.keyTag);
}

/** Key tags of the ZSK RRSIGs over the apex SOA, as BIND serves them. */
async function soaSigners(): Promise<number[]> {
  const response = await query(server, zone, 'SOA', { transport: 'tcp' });
  return response.answers.flatMap((set) => set.signatures.map((signature) => signature.keyTag));
}

/** `Published` and `Active` of a key's .state file, in seconds since the epoch. */
async function stateTimes(tag: number): Promise<{ published: number; active: number }> {
  const files = await readZoneKeyFiles(config.keyDirectory, zone);
  const state = files.find((file) => file.keyTag === tag)?.state ?? {};
  const seconds = (value = '') => {
    const [, y, mo, d, h, mi, s] = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)/.exec(value) ?? [];
    return Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  };
  return { published: seconds(state.Published), active: seconds(state.Active) };
}

const ownZsks = async () =>
  (await signer.listOwnKeys(zone, {})).filter((key) => key.role === 'ZSK');

describe('BIND key roll (server-timed), zone roll.test.', () => {
  it('setup: no roll is in progress (one ZSK that BIND keeps)', { timeout: 240_000 }, async () => {
    await waitUntil(
      'a quiet roll.test. (a roll started earlier has finished)',
      async () => {
        const zsks = await ownZsks();
        return zsks.length === 1 && zsks[0]!.state?.startsWith('goal omnipresent')
          ? true
          : undefined;
      },
      { timeoutMs: 200_000, intervalMs: 1000 },
    );
  });

  it("reads BIND's pre-publication interval from named.conf: the lab policy's values", async () => {
    // named.conf includes the lab's dnssec-policy from a file of its own.
    const policyFile = /include "([^"]*dnssec-policy\.conf)";/.exec(
      await readFile(bind.configFile, 'utf8'),
    )?.[1];
    expect(policyFile).toBeDefined();
    const text = await readFile(policyFile!, 'utf8');
    expect(text).toContain(`dnskey-ttl ${lab.ttl};`);
    expect(text).toContain('publish-safety 15;');
    expect(text).toContain('zone-propagation-delay 5;');
    expect(await signer.keyRoller.rolloverTiming(zone, {})).toEqual({
      mode: 'server-timed',
      prePublicationSeconds: ipub,
      settings: `dnskey-ttl ${lab.ttl} + publish-safety 15 + zone-propagation-delay 5`,
      settingToRaise: 'publish-safety in the dnssec-policy of roll.test.',
      confirmsParentDs: true,
    });
  });

  it('negative control: a wrong named.conf path is a SignerConfigurationError naming namedConfigFile', async () => {
    const wrong = createBindSigner({
      ...config,
      namedConfigFile: `${scratchDirectory()}/no-such-named.conf`,
    });
    const error = await wrong.keyRoller.rolloverTiming(zone, {}).catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('namedConfigFile');
    expect((error as Error).message).toMatch(/no-such-named\.conf: file not found/);
  });

  it('negative control: a key tag BIND does not have is refused, and no roll starts', async () => {
    const before = await signer.listOwnKeys(zone, {});
    const unknown = [1, 2, 3].find((tag) => !before.some((key) => key.keyTag === tag))!;
    const error = await signer.keyRoller
      .startRoll(zone, 'ZSK', [unknown], {})
      .catch((caught: unknown) => caught);
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/BIND has no ZSK \d+ that it still keeps/);
    const tags = (keys: SigningKey[]) => keys.map((key) => key.keyTag).sort();
    expect(tags(await signer.listOwnKeys(zone, {}))).toEqual(tags(before));
  });

  it('startRoll publishes a successor: listed, served in DNSKEY, made for the predecessor', async () => {
    const zsks = await ownZsks();
    expect(zsks).toHaveLength(1);
    predecessor = zsks[0]!;
    successor = await signer.keyRoller.startRoll(zone, 'ZSK', [predecessor.keyTag], {});
    soaDoubleSigned = (await soaSigners()).includes(successor.keyTag);
    expect(successor.role).toBe('ZSK');
    expect(successor.keyTag).not.toBe(predecessor.keyTag);
    expect(successor.state).toMatch(/goal omnipresent, dnskey rumoured/);
    const listed = await signer.listOwnKeys(zone, {});
    expect(listed.map((key) => key.keyTag)).toEqual(
      expect.arrayContaining([predecessor.keyTag, successor.keyTag]),
    );
    expect(listed.find((key) => key.keyTag === predecessor.keyTag)?.state).toMatch(/^goal hidden/);
    expect(await servedTags()).toEqual(
      expect.arrayContaining([predecessor.keyTag, successor.keyTag]),
    );
    const files = await readZoneKeyFiles(config.keyDirectory, zone);
    expect(files.find((file) => file.keyTag === successor.keyTag)?.state?.Predecessor).toBe(
      String(predecessor.keyTag),
    );
  });

  it('a second startRoll returns the same successor and starts no other roll', async () => {
    const again = await signer.keyRoller.startRoll(zone, 'ZSK', [predecessor.keyTag], {});
    expect(again.keyTag).toBe(successor.keyTag);
    const zsks = await ownZsks();
    expect(zsks.map((key) => key.keyTag).sort()).toEqual(
      [predecessor.keyTag, successor.keyTag].sort(),
    );
  });

  it(
    'BIND times the rest as rolloverTiming says: the successor signs alone after Ipub, then the predecessor leaves',
    { timeout: 240_000 },
    async () => {
      const times = await stateTimes(successor.keyTag);
      // BIND's own schedule: active exactly Ipub after publication.
      expect(times.active - times.published).toBe(ipub);
      const states = new Set<string>();
      const record = async () => {
        for (const key of await signer.listOwnKeys(zone, {}))
          if (key.keyTag === predecessor.keyTag || key.keyTag === successor.keyTag)
            states.add(`${key.keyTag}: ${key.state ?? ''}`);
      };
      // Seconds since BIND published the successor.
      const elapsed = () => Math.round(Date.now() / 1000 - times.published);
      const active = await waitUntil(
        'the successor to become active',
        async () => {
          await record();
          const keys = await signer.listOwnKeys(zone, {});
          const retired = keys.find((key) => key.keyTag === predecessor.keyTag);
          return retired?.state?.includes('zone rrsig unretentive') ? elapsed() : undefined;
        },
        { timeoutMs: (ipub + 30) * 1000, intervalMs: 500 },
      );
      expect(active).toBeGreaterThanOrEqual(ipub - 2);
      expect(active).toBeLessThanOrEqual(ipub + 5);
      const unsigned = await waitUntil(
        'the predecessor to leave the SOA signatures',
        async () => {
          await record();
          return (await soaSigners()).includes(predecessor.keyTag) ? undefined : elapsed();
        },
        { timeoutMs: 150_000, intervalMs: 1000 },
      );
      const removed = await waitUntil(
        'the predecessor to leave the DNSKEY RRset',
        async () => {
          await record();
          return (await servedTags()).includes(predecessor.keyTag) ? undefined : elapsed();
        },
        { timeoutMs: 180_000, intervalMs: 1000 },
      );
      expect(removed).toBeGreaterThan(active);
      expect((await signer.listOwnKeys(zone, {})).map((key) => key.keyTag)).not.toContain(
        predecessor.keyTag,
      );
      // The key watch sees the states move: published, active, retired.
      expect(states.size).toBeGreaterThanOrEqual(4);
      process.stderr.write(
        `[bind key roll] ${predecessor.keyTag} → ${successor.keyTag}: published at 0 s (SOA signed by both at once: ${String(soaDoubleSigned)}), active at ${active} s (Ipub ${ipub} s), last predecessor RRSIG on the SOA gone at ${unsigned} s, predecessor out of DNSKEY at ${removed} s; states seen: ${[...states].join(' | ')}\n`,
      );
    },
  );
});
