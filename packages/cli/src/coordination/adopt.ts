/**
 * Adopting a group at `zone define`: every registered address of every signer and every parent
 * server asked directly, the findings of `adoptionFindings`, and the refusal that lists them.
 */
import { describeServer, readApexFromServer } from '@chorus/dns';
import { observeDelegation } from '@chorus/parent';
import { ChorusError, type NameServer } from '@chorus/core';
import type {
  AdoptionFinding,
  AdoptionObservations,
  ZoneAdoption,
  ZoneState,
} from '@chorus/engine';

const TIMEOUT = { timeoutMs: 3000, retries: 1 };

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The apex of each registered endpoint of each signer, and the delegation; failures named. */
export async function observeAdoption(
  state: ZoneState,
  signerIds: readonly string[],
  parent: { zone: string; servers: readonly NameServer[] },
): Promise<AdoptionObservations> {
  const servers = Object.fromEntries(
    await Promise.all(
      signerIds.map(async (id) => [
        id,
        await Promise.all(
          (state.signers[id]?.endpoints ?? []).map((endpoint) =>
            readApexFromServer(endpoint, state.zone, TIMEOUT).catch((error: unknown) => ({
              server: describeServer(endpoint),
              error: messageOf(error),
            })),
          ),
        ),
      ]),
    ),
  ) as AdoptionObservations['servers'];
  const delegation = await observeDelegation(
    parent.zone,
    parent.servers,
    state.zone,
    TIMEOUT,
  ).catch((error: unknown) => ({ error: messageOf(error) }));
  return { servers, delegation };
}

/** `zone define` refused to adopt a group that is not consistent; nothing was appended. */
export class AdoptionRefusedError extends ChorusError {
  constructor(
    readonly zone: string,
    readonly findings: AdoptionFinding[],
    signerIds: readonly string[],
  ) {
    super('Chorus_AdoptionRefusedError', {
      message: [
        `cannot adopt ${zone} as signed by ${signerIds.join(', ')}: the group is not consistent on the wire (${findings.length} finding(s)); nothing was recorded. Fix these, then define again:`,
        ...findings.map((finding) => `  [${finding.code}] ${finding.message}`),
      ].join('\n'),
    });
  }
}

/** One line per signer: the NS names an adoption recorded for it. */
export function describeAdoption(adopted: ZoneAdoption): string {
  const names = Object.entries(adopted.nameServers).map(
    ([id, names]) => `  ${id}: NS ${names.join(' ') || 'none'}`,
  );
  return [
    `  adopted as consistent on the wire at ${adopted.observedAt} (parent servers ${adopted.parentServers.join(', ')}):`,
    ...names,
  ].join('\n');
}
