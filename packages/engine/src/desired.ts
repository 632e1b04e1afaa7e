import { canonicalName, computeDs, isSupportedDigestType } from '@chorus/dns';
import type {
  BootstrapSignalSet,
  CsyncData,
  DesiredRecipe,
  DesiredSignerState,
  GroupSelector,
  SigningKey,
} from '@chorus/core';
import type { ProcessState, ZoneState } from './state.js';

/** The CSYNC every signer publishes: immediate, no soaminimum (SOA serials differ per signer), NS and glue. */
export const GROUP_CSYNC: CsyncData = { serial: 0, flags: 1, types: ['A', 'NS', 'AAAA'] };

export function groupOf(
  process: Pick<ProcessState, 'groupBefore' | 'groupAfter'>,
  selector: GroupSelector,
): string[] {
  if (selector === 'before') return [...process.groupBefore];
  if (selector === 'after') return [...process.groupAfter];
  return [...new Set([...process.groupBefore, ...process.groupAfter])];
}

/** The NS names of a set of signers, lower-case, sorted, without duplicates. */
export function nameServersOf(state: ZoneState, signerIds: readonly string[]): string[] {
  return [
    ...new Set(
      signerIds.flatMap((id) => state.signers[id]?.nameServerNames ?? []).map(canonicalName),
    ),
  ].sort();
}

/** False for a signer whose plugin cannot publish CDS/CDNSKEY for other signers' keys. */
export function publishesGroupCds(state: ZoneState, signerId: string): boolean {
  return !limitOf(state, signerId);
}

/** The registered reason a signer cannot publish the group's CDS, if it cannot. */
export function limitOf(state: ZoneState, signerId: string): string | undefined {
  return state.signers[signerId]?.limits?.find((limit) => limit.capability === 'cds-import-foreign')
    ?.reason;
}

/**
 * Each participant's desired state for a step. Deterministic: every sidecar computes the same
 * result from the same fold, and the result is persisted in `step-started` anyway.
 */
export function desiredForRecipe(
  state: ZoneState,
  process: ProcessState,
  recipe: DesiredRecipe,
): Record<string, DesiredSignerState> {
  const keysFrom = groupOf(process, recipe.keysFrom);
  const cdsFor = groupOf(process, recipe.cdsFor);
  const apexNs =
    recipe.apexNs === 'unchanged'
      ? undefined
      : nameServersOf(state, groupOf(process, recipe.apexNs));
  const signals = bootstrapSignalsFor(state, recipe, cdsFor);
  const desired: Record<string, DesiredSignerState> = {};
  for (const participant of groupOf(process, recipe.participants)) {
    if (recipe.keys === 'owner') {
      desired[participant] = ownerSignedState(state, recipe, apexNs);
      continue;
    }
    const keys = keysFrom
      .filter((id) => id !== participant)
      .flatMap((id) => state.signers[id]?.keys ?? []);
    const ksks = publishesGroupCds(state, participant)
      ? cdsFor
          .filter((id) => id !== participant)
          .flatMap((id) => cdsKeysOf(state.signers[id]?.keys ?? []))
      : [];
    desired[participant] = {
      foreignDnskeys: keys.map((key) => key.dnskey),
      foreignCds: ksks.flatMap((key) => cdsOfKey(state.zone, key)),
      foreignCdnskeys: ksks.map((key) => key.dnskey),
      csync: recipe.csync ? GROUP_CSYNC : null,
      ...(apexNs ? { apexNs } : {}),
      ...(signals !== undefined
        ? {
            bootstrapSignals: {
              nameservers: nameServersOf(state, [participant]),
              signals,
            },
          }
        : {}),
      ttl: state.recordTtlSeconds,
    };
  }
  return desired;
}

/** Model 1: DNSKEY, CDS and CDNSKEY are the owner's; only NS and CSYNC follow the recipe. */
function ownerSignedState(
  state: ZoneState,
  recipe: DesiredRecipe,
  apexNs: string[] | undefined,
): DesiredSignerState {
  return {
    foreignDnskeys: [],
    foreignCds: [],
    foreignCdnskeys: [],
    csync: recipe.csync ? GROUP_CSYNC : null,
    ...(apexNs ? { apexNs } : {}),
    ttl: state.recordTtlSeconds,
    ownerSignsDnskey: true,
  };
}

/** RFC 9615: the group-wide CDS/CDNSKEY the apex serves, for the `_signal` names; null withdraws. */
function bootstrapSignalsFor(
  state: ZoneState,
  recipe: DesiredRecipe,
  cdsFor: readonly string[],
): BootstrapSignalSet | null | undefined {
  if (recipe.bootstrapSignals === undefined) return undefined;
  if (recipe.bootstrapSignals === 'withdraw') return null;
  const keys = cdsFor.flatMap((id) => cdsKeysOf(state.signers[id]?.keys ?? []));
  return {
    cds: keys.flatMap((key) => cdsOfKey(state.zone, key)),
    cdnskey: keys.map((key) => key.dnskey),
  };
}

/**
 * The KSKs/CSKs of one signer that the group's CDS set (and the parent's DS) names: those its
 * server publishes CDS for, as the key watch saw on the wire. A server that times its own KSK
 * roll moves its CDS from the predecessor to the successor, and the group mirrors that. When the
 * server publishes CDS for none of them (not yet, or not observed), every one.
 */
export function cdsKeysOf(keys: readonly SigningKey[]): SigningKey[] {
  const ksks = keys.filter((key) => key.role !== 'ZSK');
  const published = ksks.filter((key) => key.cdsPublished !== false);
  return published.length > 0 ? published : ksks;
}

/**
 * The CDS records of one KSK/CSK, as its own server publishes them: SHA-256, plus every other
 * digest type the server uses (deSEC adds SHA-384). Mirroring them keeps the CDS sets identical
 * at every provider, which a parent requires before it acts.
 */
export function cdsOfKey(zone: string, key: SigningKey) {
  const types = (key.cdsDigestTypes ?? [2]).filter(isSupportedDigestType);
  return (types.length > 0 ? types : [2 as const]).map((type) => computeDs(zone, key.dnskey, type));
}

/** The DS records the parent should hold for a group: the CDS of each signer's CDS keys (standards §6). */
export function expectedDsFor(state: ZoneState, signerIds: readonly string[]) {
  return signerIds.flatMap((id) =>
    cdsKeysOf(state.signers[id]?.keys ?? [])
      .map((key) => cdsOfKey(state.zone, key))
      .flat(),
  );
}
