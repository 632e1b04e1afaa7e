import { generateKeyPairSync } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  DnsResponseError,
  SignerCommandError,
  SignerConfigurationError,
  TsigError,
  UnsafePlanError,
  type ApexSnapshot,
  type DesiredSignerState,
  type DnskeyData,
  type SignerPlan,
  type SigningKey,
} from '@chorus/core';
import {
  UpdateBuilder,
  computeDs,
  dnskeyIdentity,
  keyTag,
  planSignerChanges,
  readApexFromServer,
  readTsigKeyFile,
  sendUpdate,
  transferZoneDetailed,
  verifyRrsig,
} from '@chorus/dns';
import { cdsFor, makeForeignKeys } from '@chorus/conformance';
import { labRestart, type LabStatus } from '@chorus/lab';
import { CONFORMANCE_ZONE, endpoint, labServer } from '@chorus/lab/testing';
import { createBindSigner, type BindSigner } from '../../src/index.js';
import { bindConfigFor, rndcKeyFile, wrongKeyFile } from './helpers.js';

// BIND 9.18 behaviour that the plugin relies on or guards against, proven on the wire against
// the lab's BIND signer ('bind': dynamic zone, dnssec-policy, inline-signing no) and its trap
// ('bind-inline-signing'). Every test leaves conformance.test. without foreign records.
let lab: LabStatus = inject('lab');
const zone = CONFORMANCE_ZONE;
const config = bindConfigFor(lab, 'bind');
const server = endpoint(labServer(lab, 'bind'));
let signer: BindSigner;
let ownKeys: SigningKey[];
let baselineNs: string[];

function desired(overrides: Partial<DesiredSignerState> = {}): DesiredSignerState {
  return {
    foreignDnskeys: [],
    foreignCds: [],
    foreignCdnskeys: [],
    csync: null,
    apexNs: baselineNs,
    ttl: 30,
    ...overrides,
  };
}

/** Plans against what BIND serves, applies through the plugin, and returns the new apex. */
async function reconcile(state: DesiredSignerState): Promise<ApexSnapshot> {
  const served = await signer.readApex(zone, {});
  const plan = planSignerChanges({ signerId: signer.id, ownKeys, served, desired: state });
  if (plan.changes.length > 0) await signer.applyChanges(plan, {});
  const after = await readApexFromServer(server, zone);
  expect(
    planSignerChanges({ signerId: signer.id, ownKeys, served: after, desired: state }).changes,
  ).toEqual([]);
  return after;
}

const served = (apex: ApexSnapshot) => new Set((apex.dnskey?.records ?? []).map(dnskeyIdentity));

/** An RSASHA256 (algorithm 8) DNSKEY: a foreign algorithm next to BIND's ECDSA keys. */
function rsaDnskey(flags: 256 | 257): DnskeyData {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const exponent = Buffer.from(jwk.e!, 'base64url');
  const modulus = Buffer.from(jwk.n!, 'base64url');
  return {
    flags,
    protocol: 3,
    algorithm: 8,
    publicKey: Buffer.concat([Buffer.from([exponent.length]), exponent, modulus]).toString(
      'base64',
    ),
  };
}

beforeAll(async () => {
  signer = createBindSigner(config);
  await signer.checkZone(zone, {});
  ownKeys = await signer.listOwnKeys(zone, {});
  baselineNs = (await signer.readApex(zone, {})).ns!.records.filter(
    (name) => name !== labServer(lab, 'knot').nameserverName,
  );
  await reconcile(desired());
});

afterAll(async () => {
  await reconcile(desired());
});

describe('checkZone', () => {
  it('accepts the lab signer: dynamic, dnssec-policy, inline-signing no', async () => {
    await expect(signer.checkZone(zone, {})).resolves.toBeUndefined();
    await expect(signer.checkZone('example.test.', {})).resolves.toBeUndefined();
  });

  it("refuses the 'bind-inline-signing' trap, naming inline-signing and the fix", async () => {
    const trap = labServer(lab, 'bind-inline-signing');
    expect(trap.role).toBe('trap');
    const trapSigner = createBindSigner(bindConfigFor(lab, 'bind-inline-signing'));
    const error = await trapSigner.checkZone(zone, {}).catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    const configurationError = error as SignerConfigurationError;
    expect(configurationError.setting).toBe('inline-signing');
    expect(configurationError.fix).toBe(
      'set inline-signing no on a dynamic zone (allow-update/update-policy), or use BIND ≥ 9.20',
    );
    expect(configurationError.message).toContain('bind-inline-signing');
    expect(configurationError.isRetryable).toBe(false);
  });

  it('is right to refuse it: the trap answers SERVFAIL to a foreign DNSKEY by UPDATE', async () => {
    const trap = labServer(lab, 'bind-inline-signing');
    const [foreign] = makeForeignKeys(1, 256);
    const error = await sendUpdate(
      endpoint(trap),
      new UpdateBuilder(zone).add({
        name: zone,
        type: 'DNSKEY',
        class: 'IN',
        ttl: 30,
        data: foreign!.dnskey,
      }),
      { tsig: await readTsigKeyFile(trap.tsig.keyFile), retries: 0 },
    ).catch((caught: unknown) => caught);
    expect(DnsResponseError.isInstance(error)).toBe(true);
    expect((error as DnsResponseError).rcode).toBe('SERVFAIL');
    const apex = await readApexFromServer(endpoint(trap), zone);
    expect(served(apex).has(dnskeyIdentity(foreign!.dnskey))).toBe(false);
  });

  it('refuses a zone BIND does not have, naming the zone statement', async () => {
    const error = await signer.checkZone('nosuch.test.', {}).catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('zone');
  });

  it('refuses a key directory that does not hold the keys rndc lists', async () => {
    const wrong = createBindSigner({ ...config, keyDirectory: labServer(lab, 'bind').directory });
    const error = await wrong.checkZone(zone, {}).catch((caught: unknown) => caught);
    expect(SignerConfigurationError.isInstance(error)).toBe(true);
    expect((error as SignerConfigurationError).setting).toBe('keyDirectory');
  });

  it('finds a wrong TSIG secret without changing the zone (an UPDATE with only a prerequisite)', async () => {
    const before = await readApexFromServer(server, zone);
    const wrong = createBindSigner({ ...config, tsigKeyFile: wrongKeyFile(config.tsigKeyFile) });
    const error = await wrong.checkZone(zone, {}).catch((caught: unknown) => caught);
    expect(TsigError.isInstance(error)).toBe(true);
    expect((error as TsigError).failure).toBe('BADSIG');
    expect((error as TsigError).isRetryable).toBe(false);
    // The probe that succeeded above (with the right key) did not bump the serial either.
    expect((await readApexFromServer(server, zone)).soa!.records).toEqual(before.soa!.records);
  });

  it('reports a wrong rndc key as a non-retryable SignerCommandError', async () => {
    const bind = labServer(lab, 'bind');
    const wrong = createBindSigner({
      ...config,
      rndc: {
        address: bind.address,
        port: bind.control.kind === 'rndc' ? bind.control.port : 953,
        keyFile: wrongKeyFile(rndcKeyFile(lab, 'bind'), 'rndc.key'),
      },
    });
    const error = await wrong.listOwnKeys(zone, {}).catch((caught: unknown) => caught);
    expect(SignerCommandError.isInstance(error)).toBe(true);
    expect((error as SignerCommandError).isRetryable).toBe(false);
    expect((error as SignerCommandError).command.join(' ')).not.toMatch(/secret/);
  });
});

describe('own keys', () => {
  it('lists the KSK and ZSK from the key directory, with the states rndc reports', () => {
    expect(ownKeys.map((key) => key.role).sort()).toEqual(['KSK', 'ZSK']);
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    expect(ksk.state).toMatch(
      /^goal omnipresent, dnskey omnipresent, ds \w+, key rrsig omnipresent$/,
    );
    expect(ownKeys.find((key) => key.role === 'ZSK')!.state).toMatch(/zone rrsig omnipresent/);
  });

  it("mirrors BIND's own CDS/CDNSKEY: BIND publishes them for its KSK by itself", async () => {
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    const apex = await readApexFromServer(server, zone);
    expect(apex.cds?.records).toContainEqual(computeDs(zone, ksk.dnskey, 2));
    expect(apex.cdnskey?.records.map(dnskeyIdentity)).toContain(dnskeyIdentity(ksk.dnskey));
  });

  it('never plans to delete them, even when the desired state omits them', async () => {
    const apex = await signer.readApex(zone, {});
    const plan = planSignerChanges({
      signerId: signer.id,
      ownKeys,
      served: apex,
      desired: desired(),
    });
    expect(plan.changes).toEqual([]);
  });

  it('refuses a plan that would delete an own DNSKEY, CDS or CDNSKEY with UnsafePlanError, sending nothing', async () => {
    const before = await readApexFromServer(server, zone);
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    const plans: SignerPlan['changes'][] = [
      [{ action: 'delete', type: 'DNSKEY', data: zsk.dnskey, ttl: 30 }],
      [{ action: 'delete', type: 'DNSKEY', data: ksk.dnskey, ttl: 30 }],
      [{ action: 'delete', type: 'CDS', data: computeDs(zone, ksk.dnskey, 2), ttl: 30 }],
      [{ action: 'delete', type: 'CDNSKEY', data: ksk.dnskey, ttl: 30 }],
    ];
    const [foreign] = makeForeignKeys(1, 256);
    for (const changes of plans) {
      const plan: SignerPlan = {
        zone,
        signerId: signer.id,
        // A harmless add in front: nothing of the plan may reach BIND.
        changes: [{ action: 'add', type: 'DNSKEY', data: foreign!.dnskey, ttl: 30 }, ...changes],
      };
      const error = await signer.applyChanges(plan, {}).catch((caught: unknown) => caught);
      expect(UnsafePlanError.isInstance(error)).toBe(true);
      expect((error as UnsafePlanError).message).toMatch(/BIND's own/);
    }
    const after = await readApexFromServer(server, zone);
    expect(after.soa!.records).toEqual(before.soa!.records);
    // BIND rotates the order of RRs between answers: compare the sets.
    expect(served(after)).toEqual(served(before));
  });

  it('is right to refuse: BIND itself ignores such a delete silently (NOERROR, key still served)', async () => {
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    await sendUpdate(
      server,
      new UpdateBuilder(zone).deleteRecord({ name: zone, type: 'DNSKEY', data: zsk.dnskey }),
      { tsig: await readTsigKeyFile(config.tsigKeyFile) },
    );
    expect(served(await readApexFromServer(server, zone)).has(dnskeyIdentity(zsk.dnskey))).toBe(
      true,
    );
  });

  it('refuses a plan that would empty the apex NS set', async () => {
    const plan: SignerPlan = {
      zone,
      signerId: signer.id,
      changes: baselineNs.map((name) => ({
        action: 'delete' as const,
        type: 'NS' as const,
        data: name,
        ttl: 30,
      })),
    };
    await expect(signer.applyChanges(plan, {})).rejects.toSatisfy((error: unknown) =>
      UnsafePlanError.isInstance(error),
    );
  });
});

describe('foreign keys', () => {
  it("are served in a DNSKEY RRset signed only by BIND's own KSK", async () => {
    const keys = [
      ...makeForeignKeys(
        1,
        256,
        ownKeys.map((key) => key.keyTag),
      ),
      ...makeForeignKeys(1, 257),
    ];
    const apex = await reconcile(desired({ foreignDnskeys: keys.map((key) => key.dnskey) }));
    const rrset = apex.dnskey!;
    expect(rrset.records).toHaveLength(ownKeys.length + 2);
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    expect(rrset.signatures.length).toBeGreaterThan(0);
    for (const signature of rrset.signatures) {
      expect(signature.keyTag).toBe(ksk.keyTag);
      expect(verifyRrsig({ rrset, signature, key: ksk.dnskey })).toEqual({ ok: true });
      // …and by none of the foreign keys (BIND has no private key for them).
      for (const key of keys)
        expect(verifyRrsig({ rrset, signature, key: key.dnskey }).ok).toBe(false);
    }
    await reconcile(desired());
  });

  it('survive a restart of named (labRestart): DNSKEY, CDS, CDNSKEY and CSYNC come back from the journal', async () => {
    const [zskForeign] = makeForeignKeys(
      1,
      256,
      ownKeys.map((key) => key.keyTag),
    );
    const [kskForeign] = makeForeignKeys(
      1,
      257,
      ownKeys.map((key) => key.keyTag),
    );
    const state = desired({
      foreignDnskeys: [zskForeign!.dnskey, kskForeign!.dnskey],
      foreignCds: [cdsFor(zone, kskForeign!)],
      foreignCdnskeys: [kskForeign!.dnskey],
      csync: { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] },
    });
    await reconcile(state);
    const before = labServer(lab, 'bind').pid;
    lab = await labRestart({ directory: lab.directory, servers: ['bind'] });
    expect(labServer(lab, 'bind').pid).not.toBe(before);
    const after = await readApexFromServer(server, zone);
    expect(
      planSignerChanges({ signerId: signer.id, ownKeys, served: after, desired: state }).changes,
    ).toEqual([]);
    // BIND re-signed the DNSKEY RRset with its own KSK after the restart.
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    const signature = after.dnskey!.signatures.find((entry) => entry.keyTag === ksk.keyTag)!;
    expect(verifyRrsig({ rrset: after.dnskey!, signature, key: ksk.dnskey })).toEqual({ ok: true });
    await reconcile(desired());
  });
});

describe('one UPDATE per plan', () => {
  it('removes a foreign algorithm (DNSKEY with its CDS/CDNSKEY) in one message, which BIND requires', async () => {
    const rsa = rsaDnskey(257);
    const cds = computeDs(zone, rsa, 2);
    const withRsa = desired({ foreignDnskeys: [rsa], foreignCds: [cds], foreignCdnskeys: [rsa] });
    await reconcile(withRsa);
    // Sent alone, the DNSKEY delete is REFUSED ("bad CDS RRset") and nothing changes…
    const error = await sendUpdate(
      server,
      new UpdateBuilder(zone).deleteRecord({ name: zone, type: 'DNSKEY', data: rsa }),
      { tsig: await readTsigKeyFile(config.tsigKeyFile) },
    ).catch((caught: unknown) => caught);
    expect(DnsResponseError.isInstance(error)).toBe(true);
    expect((error as DnsResponseError).rcode).toBe('REFUSED');
    expect(served(await readApexFromServer(server, zone)).has(dnskeyIdentity(rsa))).toBe(true);
    // …while the plugin's plan (three deletes in one UPDATE) goes through.
    const apex = await reconcile(desired());
    expect(served(apex).has(dnskeyIdentity(rsa))).toBe(false);
  });

  it('refuses a plan that would leave a CDS algorithm without DNSKEY, before BIND does', async () => {
    const rsa = rsaDnskey(257);
    await reconcile(desired({ foreignDnskeys: [rsa], foreignCds: [computeDs(zone, rsa, 2)] }));
    const plan: SignerPlan = {
      zone,
      signerId: signer.id,
      changes: [{ action: 'delete', type: 'DNSKEY', data: rsa, ttl: 30 }],
    };
    await expect(signer.applyChanges(plan, {})).rejects.toSatisfy(
      (error: unknown) => UnsafePlanError.isInstance(error) && /algorithm 8/.test(error.message),
    );
    await reconcile(desired());
  });

  it('is refused whole when it deletes the DNSKEY and CDS RRsets (nameservers.md §2.3)', async () => {
    const [foreign] = makeForeignKeys(1, 256);
    await reconcile(desired({ foreignDnskeys: [foreign!.dnskey] }));
    const error = await sendUpdate(
      server,
      new UpdateBuilder(zone).deleteRRset(zone, 'DNSKEY').deleteRRset(zone, 'CDS'),
      { tsig: await readTsigKeyFile(config.tsigKeyFile) },
    ).catch((caught: unknown) => caught);
    expect(DnsResponseError.isInstance(error)).toBe(true);
    expect((error as DnsResponseError).rcode).toBe('REFUSED');
    expect(
      served(await readApexFromServer(server, zone)).has(dnskeyIdentity(foreign!.dnskey)),
    ).toBe(true);
    await reconcile(desired());
  });
});

describe('TTLs', () => {
  it("keeps BIND's DNSKEY TTL, warns about it, and BIND caps new RRsets at max-zone-ttl", async () => {
    const [foreign] = makeForeignKeys(1, 256);
    const before = await signer.readApex(zone, {});
    const plan = planSignerChanges({
      signerId: signer.id,
      ownKeys,
      served: before,
      desired: desired({
        foreignDnskeys: [foreign!.dnskey],
        csync: { serial: 0, flags: 1, types: ['NS'] },
        ttl: 3600,
      }),
    });
    const result = await signer.applyChanges(plan, {});
    expect(result.applied).toBe(2);
    expect(result.warnings).toEqual([
      {
        type: 'compatibility',
        feature: 'ttl',
        details: `BIND keeps the DNSKEY RRset TTL of ${before.dnskey!.ttl} s instead of 3600 s`,
      },
    ]);
    const after = await readApexFromServer(server, zone);
    expect(after.dnskey!.ttl).toBe(before.dnskey!.ttl);
    // CSYNC had no RRset: BIND reduced 3600 to the policy's max-zone-ttl (the lab TTL).
    expect(after.csync!.ttl).toBe(lab.ttl);
    await reconcile(desired());
  });
});

describe('checkDs (rndc dnssec -checkds)', () => {
  it('marks the DS of the own KSK withdrawn and published, with and without a key tag', async () => {
    const ksk = ownKeys.find((key) => key.role === 'KSK')!;
    const withdrawn = await signer.checkDs(zone, { keyTag: ksk.keyTag, state: 'withdrawn' });
    expect(withdrawn).toMatchObject({ zone, state: 'withdrawn', keyTag: ksk.keyTag });
    const all = await signer.checkDs(zone, { state: 'published' });
    expect(all).toMatchObject({ zone, state: 'published', keyTag: undefined });
    const published = await signer.checkDs(zone, { keyTag: ksk.keyTag, state: 'published' });
    expect(published).toMatchObject({ zone, state: 'published', keyTag: ksk.keyTag });
    expect(published.since).toMatch(/^\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}/);
    const keys = await signer.listOwnKeys(zone, {});
    expect(keys.find((key) => key.role === 'KSK')!.state).toMatch(/ds (rumoured|omnipresent)/);
  });

  it('fails with SignerCommandError for a key that is not an own KSK, although rndc exits 0', async () => {
    const [foreign] = makeForeignKeys(
      1,
      257,
      ownKeys.map((key) => key.keyTag),
    );
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    for (const tag of [foreign!.keyTag, zsk.keyTag]) {
      const error = await signer
        .checkDs(zone, { keyTag: tag, state: 'published' })
        .catch((caught: unknown) => caught);
      expect(SignerCommandError.isInstance(error)).toBe(true);
      expect((error as SignerCommandError).exitCode).toBe(0);
      expect((error as SignerCommandError).message).toMatch(/no matching key found/);
    }
  });

  it('honours an aborted signal', async () => {
    await expect(
      signer.checkDs(zone, { state: 'published' }, { signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({ name: 'Chorus_AbortError' });
  });
});

describe('own key identity', () => {
  it('matches the key tags BIND signs with', async () => {
    const apex = await readApexFromServer(server, zone);
    const signers = new Set(apex.soa!.signatures.map((signature) => signature.keyTag));
    const zsk = ownKeys.find((key) => key.role === 'ZSK')!;
    expect(signers.has(zsk.keyTag)).toBe(true);
    expect(keyTag(zsk.dnskey)).toBe(zsk.keyTag);
  });
});

/** Skips a wire name at `offset` (labels or a compression pointer); returns the offset after it. */
function skipName(message: Buffer, offset: number): number {
  for (;;) {
    const length = message[offset]!;
    if (length === 0) return offset + 1;
    if (length >= 0xc0) return offset + 2;
    offset += 1 + length;
  }
}

/** Flips the lowest bit of the first answer record's TTL: the message still decodes. */
function flipFirstTtl(message: Buffer): Buffer {
  const changed = Buffer.from(message);
  let offset = 12;
  for (let question = 0; question < changed.readUInt16BE(4); question += 1)
    offset = skipName(changed, offset) + 4;
  offset = skipName(changed, offset) + 4; // type, class
  changed[offset + 3]! ^= 1;
  return changed;
}

/**
 * A TCP relay on 127.0.0.1 in front of the lab's BIND: it passes the request through and the
 * answer messages back, changing the message numbered `tamperWith` (1-based) when given.
 */
async function relayToBind(tamperWith?: number): Promise<{ address: string; port: number }> {
  const relay = net.createServer((client) => {
    const upstream = net.connect(server.port ?? 53, server.address);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream);
    let buffered: Buffer = Buffer.alloc(0);
    let count = 0;
    upstream.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        let message: Buffer = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        count += 1;
        if (count === tamperWith) message = flipFirstTtl(message);
        client.write(Buffer.concat([Buffer.from([length >> 8, length & 0xff]), message]));
      }
    });
    upstream.on('end', () => client.end());
  });
  relays.push(relay);
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return { address: '127.0.0.1', port: (relay.address() as net.AddressInfo).port };
}
const relays: net.Server[] = [];
afterAll(async () => {
  await Promise.all(relays.map((relay) => new Promise((resolve) => relay.close(resolve))));
});

describe('AXFR with TSIG (RFC 8945 §5.3.1)', () => {
  it('verifies every message of a transfer that spans several (transfer-message-size 1024)', async () => {
    const tsig = await readTsigKeyFile(config.tsigKeyFile);
    const transfer = await transferZoneDetailed(server, zone, { tsig });
    expect(transfer.messages).toBeGreaterThan(2);
    expect(transfer.verifiedMessages).toBe(transfer.messages);
    expect(transfer.records.filter((record) => record.type === 'DNSKEY').length).toBeGreaterThan(0);
    // Through the relay, untouched: the same transfer.
    const relayed = await transferZoneDetailed(await relayToBind(), zone, { tsig });
    expect(relayed.records).toHaveLength(transfer.records.length);
  });

  it('refuses a transfer whose later message was changed on the way (BADSIG)', async () => {
    const tsig = await readTsigKeyFile(config.tsigKeyFile);
    for (const tamperWith of [2, 3]) {
      const error = await transferZoneDetailed(await relayToBind(tamperWith), zone, { tsig }).catch(
        (caught: unknown) => caught,
      );
      expect(TsigError.isInstance(error), `message ${tamperWith}`).toBe(true);
      expect((error as TsigError).failure).toBe('BADSIG');
    }
    // Without a key the same change goes unnoticed: the MAC check is what caught it.
    const unchecked = await transferZoneDetailed(await relayToBind(2), zone);
    expect(unchecked.verifiedMessages).toBe(0);
  });
});

describe("content reads within BIND's transfers-out quota (10)", () => {
  const AT_ONCE = 60;
  const outcomes = (reads: Promise<unknown>[]) =>
    Promise.allSettled(reads).then((settled) =>
      settled.map((outcome) =>
        outcome.status === 'fulfilled'
          ? 'read'
          : DnsResponseError.isInstance(outcome.reason)
            ? outcome.reason.rcode
            : String(outcome.reason),
      ),
    );

  it(`reads ${AT_ONCE} transfers asked at once, 8 at a time`, async () => {
    const reads = Array.from({ length: AT_ONCE }, () => signer.readZoneContent(zone, {}));
    expect(new Set(await outcomes(reads))).toEqual(new Set(['read']));
  });

  it('is right to: the same transfers all at once meet SERVFAIL ("quota reached")', async () => {
    const tsig = await readTsigKeyFile(config.tsigKeyFile);
    const reads = Array.from({ length: AT_ONCE }, () =>
      transferZoneDetailed(server, zone, { tsig }),
    );
    expect(await outcomes(reads)).toContain('SERVFAIL');
  });
});
