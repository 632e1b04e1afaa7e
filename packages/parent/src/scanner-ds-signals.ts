/**
 * What one child server asks of the DS RRset, from its CDS and CDNSKEY RRsets (draft
 * §3.1, RFC 7344, RFC 8078 §4): nothing, deletion, or a set of keys. Each server is read by a
 * list of named rules; the first that matches gives the server's signal or the reason it has none.
 */
import { dnskeyIdentity, dsIdentity, keyTag } from '@chorus/dns';
import type { DnskeyData, DsData } from '@chorus/core';
import type { ParentScanPolicy, ScanReason } from './types.js';
import { type Answered, decideByRules, label, reason, type Rule, show } from './scanner-context.js';
import { dsReferencesKey } from './validation.js';

/** RFC 8078 §4 with Errata 5049: `CDS 0 0 0 00` (a zero-length digest is tolerated). */
export function isDeleteCds(ds: DsData): boolean {
  return (
    ds.keyTag === 0 &&
    ds.algorithm === 0 &&
    ds.digestType === 0 &&
    /^0*$/.test(ds.digest.replace(/\s+/g, ''))
  );
}

/** RFC 8078 §4 with Errata 5049: `CDNSKEY 0 3 0 AA==` (an empty key is tolerated). */
export function isDeleteCdnskey(key: DnskeyData): boolean {
  if (key.flags !== 0 || key.protocol !== 3 || key.algorithm !== 0) return false;
  const bytes = Buffer.from(key.publicKey.replace(/\s+/g, ''), 'base64');
  return bytes.every((byte) => byte === 0);
}

type RRsetKind = 'none' | 'delete' | 'keys' | 'malformed';

function kindOf<T>(records: readonly T[], isDelete: (record: T) => boolean): RRsetKind {
  if (records.length === 0) return 'none';
  const deletes = records.filter(isDelete).length;
  if (deletes === 0) return 'keys';
  return deletes === 1 && records.length === 1 ? 'delete' : 'malformed';
}

export interface KeyedSignal {
  server: Answered;
  kind: 'none' | 'delete' | 'keys';
  /** Key identities referenced (CDNSKEY key, or a CDS resolved to a key, or the CDS itself). */
  keys: Set<string>;
}

/** Names the key a CDS or CDNSKEY refers to, and remembers how to show each identity. */
export class KeyIdentities {
  private readonly display = new Map<string, string>();
  /** Every key any server knows, to name the key a CDS refers to. */
  private readonly pool: DnskeyData[];

  constructor(
    private readonly zone: string,
    answered: readonly Answered[],
  ) {
    this.pool = answered.flatMap((entry) => [
      ...(entry.data.dnskey?.records ?? []),
      ...(entry.data.cdnskey?.records ?? []).filter((key) => !isDeleteCdnskey(key)),
    ]);
  }

  ofCds = (ds: DsData): string => {
    const key = this.pool.find((candidate) => dsReferencesKey(this.zone, ds, candidate));
    if (key) return this.ofKey(key);
    const identity = `ds ${dsIdentity(ds)}`;
    this.display.set(identity, show(this.zone, 'CDS', ds));
    return identity;
  };

  ofKey = (key: DnskeyData): string => {
    const identity = `key ${dnskeyIdentity(key)}`;
    this.display.set(identity, show(this.zone, 'CDNSKEY', key));
    return identity;
  };

  describe(identity: string): string {
    return this.display.get(identity) ?? identity;
  }
}

/** One server's CDS and CDNSKEY, with what each RRset asks for. */
interface ServerRequest {
  zone: string;
  mode: NonNullable<ParentScanPolicy['cdsCdnskey']>;
  identities: KeyIdentities;
  entry: Answered;
  cds: DsData[];
  cdnskey: DnskeyData[];
  cdsKind: RRsetKind;
  cdnskeyKind: RRsetKind;
}

type ServerRule = Rule<ServerRequest, KeyedSignal | ScanReason>;

function showCds(request: ServerRequest, records = request.cds): string[] {
  return records.map((ds) => show(request.zone, 'CDS', ds));
}

function showCdnskey(request: ServerRequest, records = request.cdnskey): string[] {
  return records.map((key) => show(request.zone, 'CDNSKEY', key));
}

function mismatch(request: ServerRequest, message: string, records: string[] = []): ScanReason {
  const where = label(request.entry);
  return reason('cds-cdnskey-mismatch', `${where}: ${message}`, [where], records);
}

/** RFC 8078 §4: a delete record must be alone in its RRset. */
const malformedDelete: ServerRule = (request) => {
  const { cdsKind, cdnskeyKind } = request;
  if (cdsKind !== 'malformed' && cdnskeyKind !== 'malformed') return undefined;
  return reason(
    'malformed-delete',
    `${label(request.entry)}: an RFC 8078 delete record must be alone in its RRset`,
    [label(request.entry)],
    [
      ...(cdsKind === 'malformed' ? showCds(request) : []),
      ...(cdnskeyKind === 'malformed' ? showCdnskey(request) : []),
    ],
  );
};

/** Both NODATA, or both a delete request. */
const sameRequestWithoutKeys: ServerRule = ({ entry, cdsKind, cdnskeyKind }) =>
  cdsKind === cdnskeyKind && cdsKind !== 'keys'
    ? { server: entry, kind: cdsKind as 'none' | 'delete', keys: new Set() }
    : undefined;

/** One type asks for deletion while the other lists keys. */
const deleteAgainstKeys: ServerRule = (request) => {
  const both = [request.cdsKind, request.cdnskeyKind];
  if (!both.includes('delete') || !both.includes('keys')) return undefined;
  const [deleting, listing] =
    request.cdsKind === 'delete' ? ['CDS', 'CDNSKEY'] : ['CDNSKEY', 'CDS'];
  return mismatch(request, `${deleting} asks for deletion of the DS RRset, ${listing} lists keys`, [
    ...showCds(request),
    ...showCdnskey(request),
  ]);
};

/** Only one of the two types is published: a mismatch under policy `both`, else its signal. */
const oneTypeOnly: ServerRule = (request) => {
  const { cdsKind, cdnskeyKind, entry, identities } = request;
  if (cdsKind !== 'none' && cdnskeyKind !== 'none') return undefined;
  const [present, absent] = cdsKind === 'none' ? ['CDNSKEY', 'CDS'] : ['CDS', 'CDNSKEY'];
  if (request.mode === 'both') {
    return mismatch(
      request,
      `publishes ${present} but no ${absent} (policy requires both, with the same keys)`,
      present === 'CDS' ? showCds(request) : showCdnskey(request),
    );
  }
  const kind = (cdsKind === 'none' ? cdnskeyKind : cdsKind) as 'delete' | 'keys';
  if (kind !== 'keys') return { server: entry, kind, keys: new Set() };
  const keys =
    cdsKind === 'none' ? request.cdnskey.map(identities.ofKey) : request.cds.map(identities.ofCds);
  return { server: entry, kind, keys: new Set(keys) };
};

/** Both types list keys: each CDS must reference a CDNSKEY key, and each key must have a CDS. */
const orphanRecords: ServerRule = (request) => {
  const { zone, cds, cdnskey } = request;
  const orphanCds = cds.filter((ds) => !cdnskey.some((key) => dsReferencesKey(zone, ds, key)));
  const orphanKeys = cdnskey.filter((key) => !cds.some((ds) => dsReferencesKey(zone, ds, key)));
  if (orphanCds.length === 0 && orphanKeys.length === 0) return undefined;
  const parts = [
    orphanCds.length > 0
      ? `CDS ${orphanCds.map((ds) => ds.keyTag).join(', ')} reference no CDNSKEY key`
      : '',
    orphanKeys.length > 0 ? `CDNSKEY ${orphanKeys.map(keyTag).join(', ')} have no CDS` : '',
  ];
  return mismatch(request, parts.filter((part) => part !== '').join('; '), [
    ...showCds(request, orphanCds),
    ...showCdnskey(request, orphanKeys),
  ]);
};

/** CDS and CDNSKEY agree: the server asks for these keys. */
const matchingKeys: ServerRule = ({ entry, cdnskey, identities }) => ({
  server: entry,
  kind: 'keys',
  keys: new Set(cdnskey.map(identities.ofKey)),
});

const serverRules: readonly ServerRule[] = [
  malformedDelete,
  sameRequestWithoutKeys,
  deleteAgainstKeys,
  oneTypeOnly,
  orphanRecords,
  matchingKeys,
];

/** Reads every answering server's request; a server with a problem has no signal. */
export function readServerRequests(
  zone: string,
  answered: readonly Answered[],
  policy: ParentScanPolicy,
  identities: KeyIdentities,
): { signals: KeyedSignal[]; problems: ScanReason[] } {
  const signals: KeyedSignal[] = [];
  const problems: ScanReason[] = [];
  for (const entry of answered) {
    const cds = entry.data.cds?.records ?? [];
    const cdnskey = entry.data.cdnskey?.records ?? [];
    const request: ServerRequest = {
      zone,
      mode: policy.cdsCdnskey ?? 'both',
      identities,
      entry,
      cds,
      cdnskey,
      cdsKind: kindOf(cds, isDeleteCds),
      cdnskeyKind: kindOf(cdnskey, isDeleteCdnskey),
    };
    const outcome = decideByRules(serverRules, request);
    if ('code' in outcome) problems.push(outcome);
    else signals.push(outcome);
  }
  return { signals, problems };
}
