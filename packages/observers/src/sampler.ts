/**
 * One observation round (standards §8.1): asks every parent server for the zone's DS and NS, and
 * every IP of every provider for the apex sets and a small probe set, directly (RD=0, DO=1), and
 * records each answer in the wire history.
 */
import { namesEqual, normalizeName, query } from '@chorus/dns';
import type { NameServer, RecordType, RRset } from '@chorus/core';
import type { ObservedServer, ObservedVersion, ServedAnswer, WireHistory } from './wire-history.js';

export interface SampleTargets {
  zone: string;
  parentServers: readonly NameServer[];
  providers: readonly { id: string; servers: readonly NameServer[] }[];
  /** Extra questions for every provider; default `www.<zone> A` and a name that does not exist. */
  probes?: readonly { name: string; type: RecordType }[];
}

export const APEX_TYPES: readonly RecordType[] = ['SOA', 'NS', 'DNSKEY', 'CDS', 'CDNSKEY', 'CSYNC'];

/** The fixed nonexistent name observers ask for, so that its denial can be compared over time. */
export const probeNxName = (zone: string): string => `chorus-probe-nx.${normalizeName(zone)}`;

export function defaultProbes(zone: string): { name: string; type: RecordType }[] {
  return [
    { name: `www.${normalizeName(zone)}`, type: 'A' },
    { name: probeNxName(zone), type: 'A' },
  ];
}

const DENIAL_TYPES = new Set(['SOA', 'NSEC', 'NSEC3']);

/** Asks one question and reduces the response to a {@link ServedAnswer}; never throws (but for aborts). */
export async function askServed(
  server: NameServer,
  owner: string,
  type: RecordType,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<ServedAnswer> {
  const name = normalizeName(owner);
  try {
    const response = await query(server, name, type, {
      timeoutMs: options.timeoutMs ?? 1500,
      retries: 1,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const pick = (sets: readonly RRset[]) =>
      sets.find((set) => set.type === type && namesEqual(set.name, name) && set.records.length > 0);
    // The parent answers NS for a child with a referral: the NS RRset is in the authority section.
    const rrset =
      pick(response.answers) ?? (type === 'NS' ? pick(response.authorities) : undefined);
    return {
      owner: name,
      type,
      rcode: response.rcode,
      authoritative: response.flags.aa,
      rrset: rrset ?? null,
      authority: rrset ? [] : response.authorities.filter((set) => DENIAL_TYPES.has(set.type)),
    };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return {
      owner: name,
      type,
      rcode: null,
      authoritative: false,
      rrset: null,
      authority: [],
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/**
 * Samples every target once and records the answers at the time each arrived. Returns the
 * versions that are new at their server (changes, and first sightings).
 */
export async function sampleWire(
  targets: SampleTargets,
  history: WireHistory,
  options: { timeoutMs?: number; signal?: AbortSignal; now?: () => number } = {},
): Promise<ObservedVersion[]> {
  const zone = normalizeName(targets.zone);
  const now = options.now ?? (() => Date.now() / 1000);
  const probes = targets.probes ?? defaultProbes(zone);
  const questions: {
    server: ObservedServer;
    endpoint: NameServer;
    owner: string;
    type: RecordType;
  }[] = [];
  const observed = (provider: string, endpoint: NameServer): ObservedServer => ({
    provider,
    address: endpoint.address,
    port: endpoint.port ?? 53,
  });
  for (const endpoint of targets.parentServers)
    for (const type of ['DS', 'NS'] as const)
      questions.push({ server: observed('parent', endpoint), endpoint, owner: zone, type });
  for (const provider of targets.providers)
    for (const endpoint of provider.servers) {
      const server = observed(provider.id, endpoint);
      for (const type of APEX_TYPES) questions.push({ server, endpoint, owner: zone, type });
      for (const probe of probes)
        questions.push({ server, endpoint, owner: probe.name, type: probe.type });
    }
  const answers = await Promise.all(
    questions.map(async (question) => ({
      question,
      answer: await askServed(question.endpoint, question.owner, question.type, options),
      at: now(),
    })),
  );
  const changes: ObservedVersion[] = [];
  for (const { question, answer, at } of answers) {
    const { version, changed } = history.record(question.server, answer, at);
    if (changed) changes.push(version);
  }
  return changes;
}
