/**
 * The key watch: each sidecar reads its own server's keys again and again, and records what
 * changed. A successor that the server introduced on its own (a server-timed roll) becomes a
 * roll request for the whole group.
 */
import type { ApexSnapshot, KeyChange, ProcessKind, SigningKey } from '@chorus/core';
import type { ZoneState } from '@chorus/engine';

/** What changed between two listings of a signer's own keys, by key tag. */
export function keyChanges(
  before: readonly SigningKey[],
  after: readonly SigningKey[],
): KeyChange[] {
  const earlier = new Map(before.map((key) => [key.keyTag, key]));
  const later = new Map(after.map((key) => [key.keyTag, key]));
  const changes: KeyChange[] = [];
  for (const key of after) {
    const previous = earlier.get(key.keyTag);
    if (!previous)
      changes.push({ keyTag: key.keyTag, role: key.role, change: 'appeared', ...to(key) });
    else if (
      previous.state !== key.state ||
      previous.cdsPublished !== key.cdsPublished ||
      String(previous.cdsDigestTypes) !== String(key.cdsDigestTypes)
    )
      changes.push({
        keyTag: key.keyTag,
        role: key.role,
        change: 'state-changed',
        ...(previous.state !== undefined ? { from: previous.state } : {}),
        ...to(key),
        ...(previous.cdsPublished !== key.cdsPublished && key.cdsPublished !== undefined
          ? { cdsPublished: key.cdsPublished }
          : {}),
      });
  }
  for (const key of before)
    if (!later.has(key.keyTag))
      changes.push({
        keyTag: key.keyTag,
        role: key.role,
        change: 'disappeared',
        ...(key.state !== undefined ? { from: key.state } : {}),
      });
  return changes;
}

const to = (key: SigningKey) => (key.state !== undefined ? { to: key.state } : {});

/**
 * Marks each KSK/CSK with whether the server serves its own CDS for it (by key tag and
 * algorithm, any digest). The group mirrors that set, so a server that moves its CDS to a
 * successor on its own schedule is followed, not contradicted.
 */
export function withCdsFlags(keys: readonly SigningKey[], apex: ApexSnapshot): SigningKey[] {
  const records = apex.cds?.records ?? [];
  return keys.map((key) => {
    if (key.role === 'ZSK') return key;
    const digestTypes = [
      ...new Set(
        records
          .filter((record) => record.keyTag === key.keyTag && record.algorithm === key.algorithm)
          .map((record) => record.digestType),
      ),
    ].sort((a, b) => a - b);
    const beyondSha256 = digestTypes.some((type) => type !== 2);
    return {
      ...key,
      cdsPublished: digestTypes.length > 0,
      ...(beyondSha256 ? { cdsDigestTypes: digestTypes } : {}),
    };
  });
}

/** The `requestedBy` of a key watch's requests: decide queues them behind a process in flight. */
export function keyWatchRequester(signerId: string): string {
  return `key-watch:${signerId}`;
}

/**
 * The roll to request for keys that appeared at a member, when no roll of that signer already
 * covers them: `roll-zsk` for a ZSK, `roll-ksk` for a KSK or CSK (one per role).
 */
export function rollsToFollow(
  state: ZoneState,
  signerId: string,
  changes: readonly KeyChange[],
): { kind: ProcessKind; role: KeyChange['role']; successorTag: number }[] {
  if (!state.defined || !state.members.includes(signerId)) return [];
  const covered = (role: KeyChange['role'], tag: number) =>
    state.pendingRequests.some(
      (request) =>
        request.signerId === signerId && (request.successorTag === tag || request.role === role),
    ) ||
    state.processes.some(
      (process) =>
        (process.status === 'running' || process.status === 'needs-operator') &&
        process.signerId === signerId &&
        process.roll?.role === role &&
        !process.roll.predecessorTags.includes(tag),
    );
  const requests = new Map<
    string,
    { kind: ProcessKind; role: KeyChange['role']; successorTag: number }
  >();
  for (const change of changes) {
    if (change.change !== 'appeared' || covered(change.role, change.keyTag)) continue;
    if (!requests.has(change.role))
      requests.set(change.role, {
        kind: change.role === 'ZSK' ? 'roll-zsk' : 'roll-ksk',
        role: change.role,
        successorTag: change.keyTag,
      });
  }
  return [...requests.values()];
}

/**
 * The key watch's last listing per zone, with the server's fingerprint of its keys read just
 * before it (plugins with `ownKeysFingerprint`). A round may keep that listing, and list nothing,
 * while the fingerprint is the same, the log holds what was listed, and fewer than `maxReuses`
 * rounds in a row kept it.
 */
export class KeyListings {
  readonly #last = new Map<
    string,
    { fingerprint: string; keys: readonly SigningKey[]; reused: number }
  >();

  constructor(private readonly maxReuses: number) {}

  /** Whether this round may skip the listing; counts the round when it may. */
  mayReuse(zone: string, fingerprint: string, logged: readonly SigningKey[]): boolean {
    const last = this.#last.get(zone);
    if (!last || last.fingerprint !== fingerprint || last.reused >= this.maxReuses) return false;
    if (keyChanges(logged, last.keys).length > 0) return false;
    last.reused += 1;
    return true;
  }

  /** Remembers a listing and the fingerprint read just before it. */
  listed(zone: string, fingerprint: string, keys: readonly SigningKey[]): void {
    this.#last.set(zone, { fingerprint, keys, reused: 0 });
  }
}
