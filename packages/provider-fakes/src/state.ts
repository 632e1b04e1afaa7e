/**
 * The fake's own state, kept across restarts in `stateFile` (JSON, written atomically): the
 * token state, deSEC timestamps, NS1 DNSSEC flags, external key sets and record metadata.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { RrsigData } from '@chorus/core';

export type TokenState = 'valid' | 'expired' | 'revoked';

export interface DesecTimestamps {
  created: string;
  touched: string;
}

export interface DesecState {
  /** Domain name → when the fake first saw it and last wrote to it. */
  domains: Record<string, DesecTimestamps & { published: string }>;
  /** `domain|subname|type` → timestamps of RRsets the fake wrote. */
  rrsets: Record<string, DesecTimestamps>;
}

export interface Ns1ExternalKey {
  flags: number;
  protocol: number;
  algorithm: number;
  public_key: string;
}

export interface Ns1KeySet {
  ttl: number;
  data: Ns1ExternalKey[];
}

/** The DNSKEY RRset and RRSIGs the owner handed over (model 1). */
export interface Ns1PresignedSet {
  ttl: number;
  data: Ns1ExternalKey[];
  rrsig: RrsigData[];
}

/** A zone NS1 serves presigned: the owner's set, and what to restore when it ends. */
export interface Ns1Presigned {
  set: Ns1PresignedSet;
  /** The backend's NSEC3PARAM before the switch to NSEC; absent: none. */
  nsec3param?: string;
  /** Seconds since the epoch: NS1's signatures are renewed at the next API call on the zone after this. */
  resignAfter: number;
}

export interface Ns1RecordMeta {
  meta: Record<string, unknown>;
  filters: unknown[];
}

export interface Ns1ZoneState {
  dnssec?: boolean;
  externalKeys: Record<string, Ns1KeySet>;
  /** Set while the zone serves an owner-signed DNSKEY RRset (model 1). */
  presigned?: Ns1Presigned;
  /** `domain/type` → what the backend cannot hold. */
  records: Record<string, Ns1RecordMeta>;
}

export interface FakeStateData {
  version: 1;
  token: TokenState;
  desec: DesecState;
  ns1: { zones: Record<string, Ns1ZoneState> };
}

function emptyState(): FakeStateData {
  return { version: 1, token: 'valid', desec: { domains: {}, rrsets: {} }, ns1: { zones: {} } };
}

/** Reads, changes and saves the state file. */
export class FakeState {
  readonly file: string;
  data: FakeStateData;

  private constructor(file: string, data: FakeStateData) {
    this.file = file;
    this.data = data;
  }

  /** Loads `file`; a missing file is a fresh state. */
  static async load(file: string): Promise<FakeState> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return new FakeState(file, emptyState());
      throw error;
    }
    const parsed = JSON.parse(text) as Partial<FakeStateData>;
    const fresh = emptyState();
    return new FakeState(file, {
      version: 1,
      token: parsed.token ?? fresh.token,
      desec: { ...fresh.desec, ...parsed.desec },
      ns1: { ...fresh.ns1, ...parsed.ns1 },
    });
  }

  /** The NS1 state of `zone` (created empty on first use). */
  ns1Zone(zone: string): Ns1ZoneState {
    const zones = this.data.ns1.zones;
    zones[zone] ??= { externalKeys: {}, records: {} };
    return zones[zone];
  }

  /** Writes the state (0600) through a temporary file and a rename. */
  async save(): Promise<void> {
    const temporary = `${this.file}.tmp-${process.pid}`;
    await writeFile(temporary, `${JSON.stringify(this.data, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, this.file);
  }
}
