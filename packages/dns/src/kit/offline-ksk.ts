/**
 * Knot's offline-KSK exchange (Knot 3.2, policy `offline-ksk: on`), the way Knot serves a
 * DNSKEY RRset the zone owner signed (RFC 8901 model 1): `keymgr generate-ksr` prints a
 * KeySigningRequest listing, per snapshot time, the ZSKs Knot will publish; `keymgr import-skr`
 * reads a SignedKeyResponse holding, per snapshot, the whole DNSKEY RRset and its RRSIGs, checks
 * each signature, and Knot serves that RRset from the snapshot's time on.
 */
import type { DnskeyData, DnsRecord, PlannedZsks, SignedDnskeySnapshot } from '@chorus/core';
import { formatRecord, parseZone } from '../presentation.js';

const KSR_HEADER = /^;; KeySigningRequest 1\.0 (\d+)\b/;

/** The snapshots of a KeySigningRequest, in order. Throws a plain Error on anything but DNSKEYs of `zone`. */
export function parseKsr(text: string, zone: string): PlannedZsks[] {
  const snapshots: PlannedZsks[] = [];
  let body: string[] = [];
  const flush = () => {
    const current = snapshots.at(-1);
    if (!current) return;
    for (const record of parseZone(body.join('\n'), { origin: zone, defaultTtl: 0 })) {
      if (record.type !== 'DNSKEY' || record.name.toLowerCase() !== zone.toLowerCase())
        throw new Error(
          `the KeySigningRequest holds ${record.type} ${record.name}, not only DNSKEYs of ${zone}`,
        );
      current.zsks.push(record.data as DnskeyData);
    }
    body = [];
  };
  for (const line of text.split('\n')) {
    const header = KSR_HEADER.exec(line);
    if (header) {
      flush();
      snapshots.push({ at: Number(header[1]), zsks: [] });
    } else if (snapshots.length > 0) body.push(line);
  }
  flush();
  return snapshots;
}

/**
 * The snapshots whose ZSKs differ from the one before: Knot's KSR repeats an unchanged key set at
 * the end of the requested period, which would otherwise look like a change at every read.
 */
export function withoutRepeats(planned: readonly PlannedZsks[]): PlannedZsks[] {
  const keys = (entry: PlannedZsks) =>
    entry.zsks
      .map((key) => key.publicKey)
      .sort()
      .join(' ');
  return planned.filter((entry, index) => index === 0 || keys(entry) !== keys(planned[index - 1]!));
}

const isoTime = (at: number) => new Date(at * 1000).toISOString().replace('.000Z', 'Z');

/** The SignedKeyResponse text Knot imports. Knot reads up to the footer line; without it the last snapshot counts as cut off. */
export function formatSkr(
  zone: string,
  snapshots: readonly SignedDnskeySnapshot[],
  now = Date.now(),
): string {
  const record = (ttl: number, type: 'DNSKEY' | 'RRSIG', data: DnsRecord['data']) =>
    formatRecord({ name: zone, ttl, class: 'IN', type, data } as DnsRecord);
  const sections = snapshots.map((snapshot) =>
    [
      `;; SignedKeyResponse 1.0 ${snapshot.at} (${isoTime(snapshot.at)}) =========`,
      ...snapshot.dnskeys.map((key) => record(snapshot.ttl, 'DNSKEY', key)),
      ...snapshot.rrsigs.map((rrsig) => record(snapshot.ttl, 'RRSIG', rrsig)),
    ].join('\n'),
  );
  const footer = `;; SignedKeyResponse 1.0 generated at ${isoTime(Math.floor(now / 1000))} by Chorus`;
  return `${[...sections, footer].join('\n')}\n`;
}

const sameKey = (a: DnskeyData, b: DnskeyData) =>
  a.flags === b.flags &&
  a.protocol === b.protocol &&
  a.algorithm === b.algorithm &&
  a.publicKey === b.publicKey;

/** The entry in effect at `at`: the latest that begins at or before it, else the first. */
export function inEffectAt<Entry extends { at: number }>(
  entries: readonly Entry[],
  at: number,
): Entry | undefined {
  let current: Entry | undefined;
  for (const entry of entries) if (entry.at <= at) current = entry;
  return current ?? entries[0];
}

/**
 * Why Knot would serve a DNSKEY RRset without a ZSK it signs with, if it imported these
 * snapshots: one line per gap, empty when every planned ZSK is in the snapshot in effect at its
 * time (and every snapshot holds the ZSKs planned at its own time).
 */
export function missingPlannedZsks(
  planned: readonly PlannedZsks[],
  snapshots: readonly SignedDnskeySnapshot[],
  keyTagOf: (key: DnskeyData) => number,
): string[] {
  const gaps: string[] = [];
  const check = (plan: PlannedZsks | undefined, snapshot: SignedDnskeySnapshot | undefined) => {
    if (!plan || !snapshot) return;
    for (const zsk of plan.zsks)
      if (!snapshot.dnskeys.some((key) => sameKey(key, zsk)))
        gaps.push(
          `the snapshot from ${isoTime(snapshot.at)} lacks Knot's ZSK ${keyTagOf(zsk)}, which signs from ${isoTime(plan.at)}`,
        );
  };
  for (const plan of planned) check(plan, inEffectAt(snapshots, plan.at));
  for (const snapshot of snapshots) check(inEffectAt(planned, snapshot.at), snapshot);
  return [...new Set(gaps)];
}
