import { computeDs } from '../dnssec/ds.js';
import type { PlannedApex } from './apex.js';
import { canonicalName, normalizeName } from '../names.js';
import {
  capabilityStatus,
  ConvergenceError,
  UnsafePlanError,
  UnsupportedCapabilityError,
  type ApexSnapshot,
  type ApplyResult,
  type CallOptions,
  type ChangeRecordType,
  type CsyncData,
  type DesiredSignerState,
  type DnskeyData,
  type DsData,
  type Signer,
  type SignerCapability,
  type SignerChange,
  type SignerPlan,
  type SigningKey,
  type ZoneName,
} from '@chorus/core';

/** Identity of rdata, ignoring presentation differences (case of hex, base64 padding/spacing). */
export function dnskeyIdentity(key: DnskeyData): string {
  return `${key.flags} ${key.protocol} ${key.algorithm} ${Buffer.from(key.publicKey, 'base64').toString('base64')}`;
}

export function dsIdentity(ds: DsData): string {
  return `${ds.keyTag} ${ds.algorithm} ${ds.digestType} ${ds.digest.toUpperCase()}`;
}

export function csyncIdentity(csync: CsyncData): string {
  return `${csync.serial} ${csync.flags} ${[...csync.types]
    .map((type) => type.toUpperCase())
    .sort()
    .join(' ')}`;
}

/** Which capability each record type needs. */
export const CAPABILITY_FOR_TYPE: Readonly<Record<ChangeRecordType, SignerCapability>> = {
  DNSKEY: 'dnskey-import-foreign',
  CDS: 'cds-import-foreign',
  CDNSKEY: 'cds-import-foreign',
  CSYNC: 'csync-publish',
  NS: 'apex-ns-manage',
};

/** A record of a type Chorus manages (DNSKEY, CDS, CDNSKEY, CSYNC, NS), as plain data. */
export type ManagedRecord = SignerChange extends infer Change
  ? Change extends SignerChange
    ? { type: Change['type']; data: Change['data'] }
    : never
  : never;

/**
 * Identity of a managed record's data: equal identities are the same RR on the wire (hex and
 * name case, base64 chunking and CSYNC type order do not matter).
 */
export function managedRecordIdentity(record: ManagedRecord): string {
  switch (record.type) {
    case 'DNSKEY':
    case 'CDNSKEY':
      return dnskeyIdentity(record.data);
    case 'CDS':
      return dsIdentity(record.data);
    case 'CSYNC':
      return csyncIdentity(record.data);
    case 'NS':
      return canonicalName(normalizeName(record.data));
  }
}

const identityOf = (change: SignerChange): string => managedRecordIdentity(change);

function diff<T>(
  type: ChangeRecordType,
  served: readonly T[],
  desired: readonly T[],
  deletable: (item: T) => boolean,
  identity: (item: T) => string,
  ttl: number,
): SignerChange[] {
  const servedIds = new Set(served.map(identity));
  const desiredIds = new Set(desired.map(identity));
  const changes: SignerChange[] = [];
  const seen = new Set<string>();
  for (const item of desired) {
    const id = identity(item);
    if (!servedIds.has(id) && !seen.has(id))
      changes.push({ action: 'add', type, data: item, ttl } as SignerChange);
    seen.add(id);
  }
  for (const item of served) {
    if (!desiredIds.has(identity(item)) && deletable(item))
      changes.push({ action: 'delete', type, data: item, ttl } as SignerChange);
  }
  return changes;
}

const TYPE_ORDER: readonly ChangeRecordType[] = ['DNSKEY', 'CDS', 'CDNSKEY', 'NS', 'CSYNC'];

/** DNSKEY, CDS and CDNSKEY changes towards `desired`; none in model 1 (the owner signs the set). */
function keyRecordChanges(
  served: PlannedApex,
  desired: DesiredSignerState,
  ownKeys: readonly SigningKey[],
): SignerChange[] {
  if (desired.ownerSignsDnskey) return [];
  const zone = served.zone;
  const ownKeyIds = new Set(ownKeys.map((key) => dnskeyIdentity(key.dnskey)));
  const ownKskIds = new Set(
    ownKeys.filter((key) => key.role !== 'ZSK').map((key) => dnskeyIdentity(key.dnskey)),
  );
  const ownCdsIds = new Set(
    ownKeys
      .filter((key) => key.role !== 'ZSK')
      .flatMap((key) =>
        ([2, 4] as const).map((digestType) => dsIdentity(computeDs(zone, key.dnskey, digestType))),
      ),
  );
  const foreignOnly = <T>(items: readonly T[], identity: (item: T) => string, own: Set<string>) =>
    items.filter((item) => !own.has(identity(item)));
  const ttl = desired.ttl;
  return [
    ...diff(
      'DNSKEY',
      served.dnskey?.records ?? [],
      foreignOnly(desired.foreignDnskeys, dnskeyIdentity, ownKeyIds),
      (key) => !ownKeyIds.has(dnskeyIdentity(key)),
      dnskeyIdentity,
      ttl,
    ),
    ...diff(
      'CDS',
      served.cds?.records ?? [],
      foreignOnly(desired.foreignCds, dsIdentity, ownCdsIds),
      (ds) => !ownCdsIds.has(dsIdentity(ds)),
      dsIdentity,
      ttl,
    ),
    ...diff(
      'CDNSKEY',
      served.cdnskey?.records ?? [],
      foreignOnly(desired.foreignCdnskeys, dnskeyIdentity, ownKskIds),
      (key) => !ownKskIds.has(dnskeyIdentity(key)),
      dnskeyIdentity,
      ttl,
    ),
  ];
}

/**
 * Computes the changes that take a signer from what it serves to `desired`. Pure.
 * Own keys and the CDS/CDNSKEY of own KSKs are never deleted; TTL differences are ignored
 * (servers normalise TTLs: PowerDNS serves DNSKEY with the SOA minimum, Knot its own CDS with 0).
 */
export function planSignerChanges(input: {
  signerId: string;
  ownKeys: readonly SigningKey[];
  served: PlannedApex;
  desired: DesiredSignerState;
}): SignerPlan {
  const { served, desired } = input;
  const zone = served.zone;
  const ttl = desired.ttl;
  const changes: SignerChange[] = [
    ...keyRecordChanges(served, desired, input.ownKeys),
    ...diff(
      'CSYNC',
      served.csync?.records ?? [],
      desired.csync ? [desired.csync] : [],
      () => true,
      csyncIdentity,
      ttl,
    ),
  ];
  if (desired.apexNs !== undefined) {
    if (desired.apexNs.length === 0)
      throw new UnsafePlanError(`an empty apex NS set for ${zone} would make the zone unreachable`);
    changes.push(
      ...diff(
        'NS',
        served.ns?.records ?? [],
        desired.apexNs.map(canonicalName),
        () => true,
        canonicalName,
        ttl,
      ),
    );
  }
  changes.sort((a, b) => {
    if (a.action !== b.action) return a.action === 'add' ? -1 : 1;
    const byType = TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type);
    if (byType !== 0) return byType;
    return identityOf(a) < identityOf(b) ? -1 : identityOf(a) > identityOf(b) ? 1 : 0;
  });
  return { zone, signerId: input.signerId, changes };
}

/** Rejects with UnsupportedCapabilityError when a plan holds a change the signer cannot make. For plugins' `applyChanges`. */
export function assertPlanAllowed(
  signer: Pick<Signer, 'id' | 'capabilities'>,
  plan: SignerPlan,
): void {
  for (const change of plan.changes) {
    const capability = CAPABILITY_FOR_TYPE[change.type];
    if (capabilityStatus(signer.capabilities, capability) !== 'can') {
      const note = signer.capabilities[capability];
      throw new UnsupportedCapabilityError({
        capability,
        signerId: signer.id,
        ...(note ? { reason: note.reason } : {}),
      });
    }
  }
}

/** A short human description of a change, for logs and errors. */
export function describeChange(change: SignerChange): string {
  return `${change.action} ${change.type} ${identityOf(change)}`;
}

export interface ReconcileResult {
  plan: SignerPlan;
  apply: ApplyResult;
  /** What the signer serves after the apply. */
  served: ApexSnapshot;
}

export interface ReconcileOptions extends CallOptions {
  /**
   * Runs the apply, the only write. A caller that bounds writes to a server (a `concurrent-changes`
   * limit) passes its slots here, so reads and the check after the write run beside other zones'.
   * `served` is the read the plan was made from.
   */
  applyGate?: <T>(apply: () => Promise<T>, served: ApexSnapshot) => Promise<T>;
}

/**
 * Reads, plans, applies, then reads again from the wire and requires zero remaining changes
 * (with nothing to apply, the first read is the answer). Idempotent: a second call with the same
 * desired state plans nothing.
 */
export async function reconcileSigner(
  signer: Signer,
  zone: ZoneName,
  desired: DesiredSignerState,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  const { applyGate = (apply) => apply(), ...callOptions } = options;
  const [ownKeys, served] = await Promise.all([
    signer.listOwnKeys(zone, callOptions),
    signer.readApex(zone, callOptions),
  ]);
  const plan = planSignerChanges({ signerId: signer.id, ownKeys, served, desired });
  const apply =
    plan.changes.length === 0
      ? { applied: 0, warnings: [] }
      : await applyGate(() => signer.applyChanges(plan, callOptions), served);
  // Nothing applied: what was just read is what is served.
  if (plan.changes.length === 0) return { plan, apply, served };
  const after = await signer.readApex(zone, callOptions);
  const remaining = planSignerChanges({
    signerId: signer.id,
    ownKeys,
    served: after,
    desired,
  }).changes;
  if (remaining.length > 0) {
    throw new ConvergenceError({
      zone,
      signerId: signer.id,
      remaining: remaining.length,
      detail: remaining.slice(0, 3).map(describeChange).join('; '),
    });
  }
  return { plan, apply, served: after };
}
