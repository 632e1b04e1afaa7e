/**
 * Knot's offline-KSK exchange (Knot 3.2 `keymgr generate-ksr` / `import-skr`): a KeySigningRequest
 * lists, per snapshot time, the ZSKs Knot will publish; the owner answers with a
 * SignedKeyResponse holding, per snapshot, the whole DNSKEY RRset (Knot's ZSKs, the other
 * providers' ZSKs, the owner's KSK) and the owner's RRSIG over it. Knot checks each signature on
 * import and then serves exactly that RRset.
 */
import type { CallOptions, DnskeyData, DnsRecord, OwnerKey } from '@chorus/core';
import { formatRecord, parseZone } from '@chorus/dns';
import { OwnerKeyError } from './errors.js';
import { signDnskeyRrset } from './sign-dnskey.js';

/** One snapshot of a request: from `at` (seconds since the epoch), Knot publishes these ZSKs. */
export interface KsrSnapshot {
  at: number;
  zsks: DnskeyData[];
}

const KSR_HEADER = /^;; KeySigningRequest 1\.0 (\d+)\b/;

/** The snapshots of a KeySigningRequest, in order; a KSR for another zone is refused. */
export function parseKsr(text: string, zone: string): KsrSnapshot[] {
  const snapshots: KsrSnapshot[] = [];
  let body: string[] = [];
  const flush = () => {
    const current = snapshots.at(-1);
    if (!current) return;
    const records = parseZone(body.join('\n'), { origin: zone, defaultTtl: 0 });
    for (const record of records) {
      if (record.type !== 'DNSKEY' || record.name.toLowerCase() !== zone.toLowerCase())
        throw new OwnerKeyError(
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
  if (snapshots.length === 0) throw new OwnerKeyError('no KeySigningRequest snapshot in the text');
  return snapshots;
}

export interface SignKsrOptions {
  zone: string;
  /** The DNSKEY RRset's TTL (Knot's dnskey-ttl). */
  ttl: number;
  /** The other providers' ZSKs, published in every snapshot beside Knot's own. */
  foreignZsks: readonly DnskeyData[];
  /** Seconds a signature stays valid after the next snapshot begins (covers TTL and refresh). */
  overlapSeconds: number;
  /** Seconds a signature begins before its snapshot (clock skew). */
  inceptionSlackSeconds?: number;
  /** The last snapshot's signature lasts this long. */
  lastSnapshotSeconds: number;
}

const time = (at: number) => new Date(at * 1000).toISOString().replace('.000Z', 'Z');

/** Signs every snapshot of a request with the owner's KSK; returns the SignedKeyResponse text. */
export async function signKsr(
  owner: OwnerKey,
  snapshots: readonly KsrSnapshot[],
  options: SignKsrOptions,
  callOptions: CallOptions = {},
): Promise<string> {
  const sections: string[] = [];
  for (const [index, snapshot] of snapshots.entries()) {
    const keys = [...snapshot.zsks, ...options.foreignZsks, owner.dnskey];
    const next = snapshots[index + 1]?.at ?? snapshot.at + options.lastSnapshotSeconds;
    const rrsig = await signDnskeyRrset(
      owner,
      {
        zone: options.zone,
        keys,
        ttl: options.ttl,
        inception: snapshot.at - (options.inceptionSlackSeconds ?? 3600),
        expiration: next + options.overlapSeconds,
      },
      callOptions,
    );
    const record = (type: 'DNSKEY' | 'RRSIG', data: DnsRecord['data']) =>
      formatRecord({ name: options.zone, ttl: options.ttl, class: 'IN', type, data } as DnsRecord);
    sections.push(
      [
        `;; SignedKeyResponse 1.0 ${snapshot.at} (${time(snapshot.at)}) =========`,
        ...keys.map((key) => record('DNSKEY', key)),
        record('RRSIG', rrsig),
      ].join('\n'),
    );
  }
  // Knot reads up to this footer; without it the last snapshot counts as cut off.
  const footer = `;; SignedKeyResponse 1.0 generated at ${time(Math.floor(Date.now() / 1000))} by Chorus`;
  return `${[...sections, footer].join('\n')}\n`;
}
