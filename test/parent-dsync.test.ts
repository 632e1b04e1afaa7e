/**
 * DSYNC discovery (RFC 9859 §4.1) against the real lab parent (BIND 9.18). The shared lab runs
 * without a registry agent, so its parent publishes no DSYNC: each test adds the records it needs
 * to `test.` by UPDATE, and afterEach removes them.
 */
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { query, readTsigKeyFile, sendUpdate, UpdateBuilder, type TsigKey } from '@chorus/dns';
import { discoverDsync } from '@chorus/parent';
import type { DnsRecord, DsyncData } from '@chorus/core';
import { endpoint, labServer } from '@chorus/lab/testing';

const lab = inject('lab');
const parent = labServer(lab, 'parent');
const ZONE = lab.zones[0]!;
const CHILD_LABEL = ZONE.slice(0, -lab.parentZone.length - 1);
const WILDCARD = `*._dsync.${lab.parentZone}`;
const BARE = `_dsync.${lab.parentZone}`;
const TARGET = `dsync-target.${lab.parentZone}`;
const TARGET_ADDRESS = '192.0.2.53';

let tsig: TsigKey;

function dsync(name: string, data: Partial<DsyncData> & Pick<DsyncData, 'rrtype'>): DnsRecord {
  return {
    name,
    type: 'DSYNC',
    class: 'IN',
    ttl: lab.ttl,
    data: { scheme: 1, port: 5300, target: TARGET, ...data },
  };
}

async function updateParent(build: (update: UpdateBuilder) => void): Promise<void> {
  const update = new UpdateBuilder(lab.parentZone);
  build(update);
  await sendUpdate(endpoint(parent), update, { tsig });
}

const discover = (options: { timeoutMs?: number; retries?: number } = {}) =>
  discoverDsync(ZONE, { parentZone: lab.parentZone, servers: [endpoint(parent)], ...options });

beforeAll(async () => {
  tsig = await readTsigKeyFile(parent.tsig.keyFile);
});

afterEach(async () => {
  await updateParent((update) =>
    update
      .deleteRRset(WILDCARD, 'DSYNC')
      .deleteRRset(BARE, 'DSYNC')
      .deleteRRset(`${CHILD_LABEL}._dsync.${lab.parentZone}`, 'DSYNC')
      .deleteName(TARGET),
  );
});

describe('DSYNC discovery at the lab parent', () => {
  it('finds the wildcard DSYNC for CDS and CSYNC, with the target resolved at the parent', async () => {
    await updateParent((update) =>
      update
        .add({ name: TARGET, type: 'A', class: 'IN', ttl: lab.ttl, data: TARGET_ADDRESS })
        .add(dsync(WILDCARD, { rrtype: 'CDS' }))
        .add(dsync(WILDCARD, { rrtype: 'CSYNC' })),
    );
    const found = await discover();
    expect(found.lookedUp).toEqual([`${CHILD_LABEL}._dsync.${lab.parentZone}`]);
    expect(found.ignored).toEqual([]);
    const byType = [...found.targets].sort((a, b) => a.type.localeCompare(b.type));
    expect(
      byType.map(({ type, scheme, port, target, owner, addresses }) => ({
        type,
        scheme,
        port,
        target,
        owner,
        addresses,
      })),
    ).toEqual(
      ['CDS', 'CSYNC'].map((type) => ({
        type,
        scheme: 1,
        port: 5300,
        target: TARGET,
        owner: `${CHILD_LABEL}._dsync.${lab.parentZone}`,
        addresses: [TARGET_ADDRESS],
      })),
    );
    // BIND answers the wildcard authoritatively, with the records as Chorus encoded them.
    const answer = await query(endpoint(parent), found.lookedUp[0]!, 'DSYNC', { transport: 'tcp' });
    expect(answer.flags.aa).toBe(true);
    expect(answer.answers.find((set) => set.type === 'DSYNC')?.records).toHaveLength(2);
  });

  it('falls back to _dsync.<parent>, and finds nothing without DSYNC', async () => {
    expect((await discover()).targets).toEqual([]);
    await updateParent((update) =>
      update
        .add({ name: TARGET, type: 'A', class: 'IN', ttl: lab.ttl, data: TARGET_ADDRESS })
        .add(dsync(BARE, { rrtype: 'CDS', port: 53 })),
    );
    const found = await discover();
    expect(found.lookedUp).toEqual([`${CHILD_LABEL}._dsync.${lab.parentZone}`, BARE]);
    expect(found.targets.map((target) => [target.type, target.port, target.owner])).toEqual([
      ['CDS', 53, BARE],
    ]);
  });

  it('ignores a second DSYNC for the same type and scheme, a null scheme and port 0', async () => {
    await updateParent((update) =>
      update
        .add({ name: TARGET, type: 'A', class: 'IN', ttl: lab.ttl, data: TARGET_ADDRESS })
        .add(dsync(WILDCARD, { rrtype: 'CDS' }))
        .add(dsync(WILDCARD, { rrtype: 'CDS', port: 5301 }))
        .add(dsync(WILDCARD, { rrtype: 'CSYNC', scheme: 0 }))
        .add(dsync(WILDCARD, { rrtype: 'CSYNC', port: 0 })),
    );
    const found = await discover();
    expect(found.targets).toEqual([]);
    expect(found.ignored.map((entry) => entry.reason).join('\n')).toMatch(/more than one/i);
    expect(found.ignored).toHaveLength(4);
  });

  it('says which target name could not be resolved, and still lists the target', async () => {
    await updateParent((update) => update.add(dsync(WILDCARD, { rrtype: 'CDS' })));
    const found = await discover();
    expect(found.targets.map((target) => [target.type, target.addresses])).toEqual([['CDS', []]]);
    expect(found.ignored.map((entry) => entry.reason).join('\n')).toContain(TARGET);
  });

  it('moves past a parent address that does not answer', async () => {
    await updateParent((update) =>
      update
        .add({ name: TARGET, type: 'A', class: 'IN', ttl: lab.ttl, data: TARGET_ADDRESS })
        .add(dsync(WILDCARD, { rrtype: 'CDS' })),
    );
    const silent = { address: '127.0.0.1', port: 9 };
    const found = await discoverDsync(ZONE, {
      parentZone: lab.parentZone,
      servers: [silent, endpoint(parent)],
      timeoutMs: 500,
      retries: 0,
    });
    expect(found.targets.map((target) => target.type)).toEqual(['CDS']);
  });
});
