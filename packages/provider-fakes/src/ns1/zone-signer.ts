/**
 * NS1's signing platform for a zone in model 1 (RFC 8901 §2.1.1): NS1 signs every RRset with its
 * own ZSK, except the apex DNSKEY RRset, which carries the owner's RRSIGs, and builds the NSEC
 * chain. The result is what PowerDNS 4.7 serves from a presigned zone: RRSIG and NSEC rows, and
 * the order names with which PowerDNS finds the NSEC covering a name. PowerDNS rebuilds each NSEC
 * it sends (next name from the order names, types from the rows at the name), so the chain here
 * follows exactly its rules: order names compared byte-wise, types of authoritative rows and NS.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { DnskeyData, RrsigData } from '@chorus/core';
import {
  canonicalRrsetSigningData,
  formatRdata,
  keyTag,
  nameToLabels,
  parseRdata,
  rrsigLabelCount,
} from '@chorus/dns';
import type { BackendRrset } from '../powerdns-backend.js';
import type { DatabaseRecord, NameOrder, PresignedData } from '../powerdns-database.js';

/** NS1's ZSK: ECDSA P-256 (algorithm 13), the only algorithm NS1 signs with. */
export interface ZoneSigningKey {
  dnskey: DnskeyData;
  privateKey: KeyObject;
}

export interface ZoneToSign {
  /** Absolute, with the trailing dot. */
  zone: string;
  /** The backend's rrsets; its RRSIG/NSEC rows are ignored and replaced. */
  rrsets: readonly BackendRrset[];
  /** The owner's RRSIGs over the apex DNSKEY RRset. */
  dnskeyRrsigs: readonly RrsigData[];
  zsk: ZoneSigningKey;
  /** Seconds since the epoch. */
  inception: number;
  expiration: number;
}

/** A zone NS1 cannot sign (an rrset whose content the fake cannot read). */
export class ZoneSigningError extends Error {
  readonly isRetryable = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ZoneSigningError';
  }
}

/** Rows the signer writes itself; the backend's copies are replaced. */
export const SIGNATURE_TYPES: ReadonlySet<string> = new Set(['RRSIG', 'NSEC', 'NSEC3']);

const lower = (name: string) => name.toLowerCase();

/** A P-256 key from PowerDNS's private-key text (`PrivateKey: <base64 scalar>`) and its DNSKEY. */
export function zoneSigningKey(dnskey: DnskeyData, privateKeyText: string): ZoneSigningKey {
  if (dnskey.algorithm !== 13)
    throw new ZoneSigningError(`NS1 signs with algorithm 13 only, not ${dnskey.algorithm}`);
  const scalar = /^PrivateKey:\s*(\S+)\s*$/m.exec(privateKeyText)?.[1];
  const publicKey = Buffer.from(dnskey.publicKey, 'base64');
  if (scalar === undefined || publicKey.length !== 64)
    throw new ZoneSigningError(`the backend's key ${keyTag(dnskey)} is not an ECDSA P-256 key`);
  const privateKey = createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: Buffer.from(scalar, 'base64').toString('base64url'),
      x: publicKey.subarray(0, 32).toString('base64url'),
      y: publicKey.subarray(32).toString('base64url'),
    },
    format: 'jwk',
  });
  return { dnskey, privateKey };
}

/** NSEC order name as PowerDNS's rectify writes it: relative labels right to left, by spaces. */
export function orderName(name: string, zone: string): string {
  const labels = nameToLabels(lower(name)).map((label) => label.toString('latin1'));
  const zoneLabels = nameToLabels(lower(zone)).length;
  return labels
    .slice(0, labels.length - zoneLabels)
    .reverse()
    .join(' ');
}

function isBelow(name: string, ancestor: string): boolean {
  return lower(name).endsWith(`.${lower(ancestor)}`);
}

/** What NS1 signs and lists at each name: delegations sign only DS, glue nothing. */
interface NameInfo {
  name: string;
  types: Set<string>;
  /** At a delegation (NS below the apex). */
  cut: boolean;
  /** Below a delegation: glue, neither signed nor in the chain. */
  glue: boolean;
}

function namesOf(zone: string, rrsets: readonly BackendRrset[]): NameInfo[] {
  const byName = new Map<string, Set<string>>();
  for (const rrset of rrsets) {
    const key = lower(rrset.name);
    const types = byName.get(key) ?? new Set<string>();
    types.add(rrset.type);
    byName.set(key, types);
  }
  const cuts = [...byName].filter(([name, types]) => name !== lower(zone) && types.has('NS'));
  return [...byName].map(([name, types]) => ({
    name,
    types,
    cut: cuts.some(([cut]) => cut === name),
    glue: cuts.some(([cut]) => isBelow(name, cut)),
  }));
}

/** Types whose rows are authoritative at `info`: PowerDNS lists these (and NS) in the NSEC. */
function authoritativeTypes(info: NameInfo): Set<string> {
  if (info.glue) return new Set();
  const own = info.cut ? [...info.types].filter((type) => type === 'DS') : [...info.types];
  return new Set([...own, 'RRSIG', 'NSEC']);
}

/** Names between the apex and a name that has no rows of their own (empty non-terminals). */
function emptyNonTerminals(zone: string, names: readonly NameInfo[]): string[] {
  const present = new Set(names.map((info) => info.name));
  const empty = new Set<string>();
  for (const info of names) {
    if (info.glue) continue;
    let parent = info.name.slice(info.name.indexOf('.') + 1);
    while (isBelow(parent, zone) && !present.has(parent)) {
      empty.add(parent);
      parent = parent.slice(parent.indexOf('.') + 1);
    }
  }
  return [...empty];
}

function negativeTtl(zone: string, rrsets: readonly BackendRrset[]): number {
  const soa = rrsets.find((rrset) => rrset.type === 'SOA' && lower(rrset.name) === lower(zone));
  const minimum = Number(soa?.records[0]?.content.trim().split(/\s+/)[6] ?? 3600);
  return Math.min(soa?.ttl ?? 3600, Number.isFinite(minimum) ? minimum : 3600);
}

function rdataOf(rrset: BackendRrset, zone: string) {
  return rrset.records.map((record) => {
    try {
      return parseRdata(rrset.type, record.content, zone);
    } catch (error) {
      throw new ZoneSigningError(
        `cannot sign ${rrset.name} ${rrset.type}: its content ${JSON.stringify(record.content)} is unreadable (${(error as Error).message})`,
        { cause: error },
      );
    }
  });
}

/** The ZSK's RRSIG over one RRset. */
function signRrset(
  input: ZoneToSign,
  name: string,
  type: string,
  ttl: number,
  records: ReturnType<typeof rdataOf>,
): RrsigData {
  const template: RrsigData = {
    typeCovered: type,
    algorithm: input.zsk.dnskey.algorithm,
    labels: rrsigLabelCount(name),
    originalTtl: ttl,
    expiration: input.expiration >>> 0,
    inception: input.inception >>> 0,
    keyTag: keyTag(input.zsk.dnskey),
    signerName: lower(input.zone),
    signature: '',
  };
  const data = canonicalRrsetSigningData(template, {
    name,
    type: type,
    class: 'IN',
    records,
  });
  const signature = sign('sha256', data, { key: input.zsk.privateKey, dsaEncoding: 'ieee-p1363' });
  return { ...template, signature: signature.toString('base64') };
}

const rrsigRow = (name: string, rrsig: RrsigData): DatabaseRecord => ({
  name,
  type: 'RRSIG',
  ttl: rrsig.originalTtl,
  content: formatRdata({ type: 'RRSIG', data: rrsig }),
});

/** The NSEC chain in PowerDNS's order: by order name, compared byte-wise as SQLite does. */
function chainOf(zone: string, names: readonly NameInfo[]) {
  return names
    .filter((info) => !info.glue)
    .map((info) => ({ info, ordername: orderName(info.name, zone) }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.ordername), Buffer.from(b.ordername)));
}

/** Signs the zone: RRSIG and NSEC rows, empty non-terminals, and every name's order. */
export function signZone(input: ZoneToSign): PresignedData {
  const zone = lower(input.zone);
  const rrsets = input.rrsets.filter(
    (rrset) => !SIGNATURE_TYPES.has(rrset.type) && rrset.records.length > 0,
  );
  const names = namesOf(zone, rrsets);
  const infoOf = new Map(names.map((info) => [info.name, info]));
  const records: DatabaseRecord[] = [];
  for (const rrset of rrsets) {
    const name = lower(rrset.name);
    if (!authoritativeTypes(infoOf.get(name)!).has(rrset.type)) continue;
    if (name === zone && rrset.type === 'DNSKEY') {
      for (const rrsig of input.dnskeyRrsigs) records.push(rrsigRow(name, rrsig));
      continue;
    }
    const rrsig = signRrset(input, name, rrset.type, rrset.ttl, rdataOf(rrset, zone));
    records.push(rrsigRow(name, rrsig));
  }
  const chain = chainOf(zone, names);
  const ttl = negativeTtl(zone, rrsets);
  for (const [index, { info }] of chain.entries()) {
    const next = chain[(index + 1) % chain.length]!.info.name;
    const authoritative = authoritativeTypes(info);
    const types = [...info.types].filter((type) => type === 'NS' || authoritative.has(type));
    const nsec = { nextName: next, types: [...new Set([...types, 'RRSIG', 'NSEC'])] };
    records.push({
      name: info.name,
      type: 'NSEC',
      ttl,
      content: formatRdata({ type: 'NSEC', data: nsec }),
    });
    records.push(rrsigRow(info.name, signRrset(input, info.name, 'NSEC', ttl, [nsec])));
  }
  const order = new Map(chain.map((entry) => [entry.info.name, entry.ordername]));
  const nameOrders: NameOrder[] = names.map((info) => ({
    name: info.name,
    ordername: order.get(info.name) ?? null,
    authTypes: authoritativeTypes(info),
  }));
  return { records, emptyNonTerminals: emptyNonTerminals(zone, names), names: nameOrders };
}
