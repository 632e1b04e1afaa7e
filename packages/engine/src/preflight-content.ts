/**
 * Pre-flight: every signer of the group must hold identical zone content (RFC 8901 §5). Compared
 * by the digests the sidecars record from their own servers (`signer-content-observed`, works for
 * NSEC and NSEC3), or else by the content walked along the NSEC chain on the wire.
 */
import type { BlockReason, ZoneContentDigest } from '@chorus/core';
import type { SignerObservation } from './preflight.js';
import type { ZoneState } from './state.js';

const block = (code: string, message: string): BlockReason => ({ code, message });

function describeDigest(id: string, content: ZoneContentDigest, at: string | undefined): string {
  return `${id} holds ${content.rrsets} RRsets (${content.records} records) at serial ${content.serial}, ${content.algorithm} ${content.digest.slice(0, 12)}…${at ? ` read ${at}` : ''}`;
}

/** Owner/type keys whose rdata differs between two walked contents. */
function walkedDifferences(
  content: Record<string, string[]>,
  reference: Record<string, string[]>,
): string[] {
  return [...new Set([...Object.keys(content), ...Object.keys(reference)])]
    .filter((key) => JSON.stringify(content[key] ?? []) !== JSON.stringify(reference[key] ?? []))
    .sort();
}

function listed(keys: readonly string[]): string {
  return `${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;
}

function whyUnknown(state: ZoneState, id: string, observation: SignerObservation): string {
  const nsec3 = observation.denial.method === 'NSEC3';
  return `the content of ${id} could not be compared: its sidecar has recorded no content digest (the plugin lacks content-read, or reading the zone failed: see the sidecar's log)${nsec3 ? ', and an NSEC3 chain cannot be walked' : ', and the NSEC chain could not be walked'}`;
}

/** Compares one signer with the reference; a reason when they differ or cannot be compared. */
function compareWithReference(
  state: ZoneState,
  observations: Record<string, SignerObservation>,
  id: string,
  reference: string,
): BlockReason | undefined {
  const digest = state.signers[id]?.content;
  const referenceDigest = state.signers[reference]?.content;
  if (digest && referenceDigest) {
    if (digest.digest === referenceDigest.digest) return undefined;
    const walked = observations[id]!.content;
    const referenceWalked = observations[reference]!.content;
    const where =
      walked && referenceWalked
        ? `; they differ at ${listed(walkedDifferences(walked, referenceWalked))}`
        : '';
    return block(
      'content-mismatch',
      `${id} serves different zone content than ${reference}: ${describeDigest(id, digest, state.signers[id]?.contentObservedAt)}; ${describeDigest(reference, referenceDigest, state.signers[reference]?.contentObservedAt)}${where}`,
    );
  }
  const walked = observations[id]!.content;
  const referenceWalked = observations[reference]!.content;
  if (!walked) return block('content-unknown', whyUnknown(state, id, observations[id]!));
  if (!referenceWalked)
    return block('content-unknown', whyUnknown(state, reference, observations[reference]!));
  const differences = walkedDifferences(walked, referenceWalked);
  if (differences.length === 0) return undefined;
  return block(
    'content-mismatch',
    `${id} serves different zone content than ${reference} at ${listed(differences)}`,
  );
}

/** Identical content at every signer of `group`, compared with `reference`. */
export function contentChecks(
  state: ZoneState,
  observations: Record<string, SignerObservation>,
  group: readonly string[],
  reference: string,
): BlockReason[] {
  return group.flatMap((id) => {
    const reason = compareWithReference(state, observations, id, reference);
    return reason ? [reason] : [];
  });
}

/** True when the pre-flight can compare this signer by digest, so walking its chain is not needed. */
export function hasContentDigest(state: ZoneState, id: string): boolean {
  return state.signers[id]?.content !== undefined;
}
