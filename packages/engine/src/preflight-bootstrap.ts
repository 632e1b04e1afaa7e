import { canonicalName, isSubdomain } from '@chorus/dns';
import type { BlockReason } from '@chorus/core';
import { nameServersOf } from './desired.js';
import type { PreflightInput } from './preflight.js';

/**
 * BOOTSTRAP's own pre-conditions (RFC 9615 §4.1): an insecure delegation to exactly the group,
 * at least one NS name outside the zone, and every signer able to publish signals.
 */

const block = (code: string, message: string): BlockReason => ({ code, message });

type BootstrapRule = (input: PreflightInput) => BlockReason[];

const refuseSignedDelegation: BootstrapRule = ({ state, parentDs }) =>
  parentDs.length === 0
    ? []
    : [
        block(
          'already-secure',
          `the parent already holds DS ${parentDs.map((ds) => ds.keyTag).join(', ')} for ${state.zone}: RFC 9615 bootstraps only a delegation without DS; use "chorus signer add" to change a signed group`,
        ),
      ];

const refuseWithoutSignaller: BootstrapRule = ({ state }) =>
  state.members.flatMap((id) => {
    const limit = state.signers[id]?.limits?.find(
      (entry) => entry.capability === 'bootstrap-signal',
    );
    return limit
      ? [
          block(
            'bootstrap-signal-impossible',
            `${id} cannot publish RFC 9615 signalling records (${limit.reason}), so the parent cannot authenticate the group's CDS through it`,
          ),
        ]
      : [];
  });

const refuseInsideNamesOnly: BootstrapRule = ({ state }) => {
  const names = nameServersOf(state, state.members);
  if (names.some((name) => !isSubdomain(name, state.zone))) return [];
  return [
    block(
      'bootstrap-no-outside-ns',
      `every NS name of ${state.zone} (${names.join(', ')}) is inside the zone, so there is no signalling name a validator can reach (RFC 9615 §4.1)`,
    ),
  ];
};

const refuseOtherDelegation: BootstrapRule = ({ state, parentNs }) => {
  if (parentNs === undefined) return [];
  const group = nameServersOf(state, state.members);
  const parent = parentNs.map(canonicalName).sort();
  if (group.join(' ') === parent.join(' ')) return [];
  return [
    block(
      'delegation-differs',
      `the parent delegates ${state.zone} to ${parent.join(', ') || 'nothing'}, not to the group's ${group.join(', ')}: the parent checks the signals of every delegated NS, so the delegation must name exactly the group first`,
    ),
  ];
};

const BOOTSTRAP_RULES: readonly BootstrapRule[] = [
  refuseSignedDelegation,
  refuseWithoutSignaller,
  refuseInsideNamesOnly,
  refuseOtherDelegation,
];

export function bootstrapChecks(input: PreflightInput): BlockReason[] {
  return BOOTSTRAP_RULES.flatMap((rule) => rule(input));
}
