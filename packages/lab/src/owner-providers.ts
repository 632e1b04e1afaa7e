/**
 * The model-1 zone at the provider fakes (`up --owner --providers ns1`): once the NS1 fake runs,
 * the lab hands it the owner's first DNSKEY RRset, the one Knot imported, through NS1's inferred
 * model-1 API (`PUT /v1/zones/{zone}/dnssec/presigned_dnskey`, provider-fakes ns1/presigned.ts).
 * The fake refuses a set without NS1's ZSK or with a signature that does not verify.
 */
import { readFile } from 'node:fs/promises';
import type { SignedDnskeySnapshot } from '@chorus/core';
import { inEffectAt } from '@chorus/dns';
import { presignedBody } from '@chorus/provider-fakes';
import { LabError } from './errors.js';
import type { LabProviderApi, LabStatus } from './types.js';
import { stripDot } from './zones.js';

/** The provider fakes in front of a server of the model-1 zone. */
export function ownerProviderApis(status: LabStatus): LabProviderApi[] {
  const servers = status.owner?.servers ?? [];
  return status.providers.filter((api) => servers.includes(api.server));
}

/** PUTs the snapshot in effect now at the fake, with the lab's token for it. */
export async function publishOwnerDnskeys(
  api: LabProviderApi,
  zone: string,
  snapshots: readonly SignedDnskeySnapshot[],
): Promise<void> {
  const snapshot = inEffectAt(snapshots, Math.floor(Date.now() / 1000));
  if (snapshot === undefined)
    throw new LabError(`internal: no owner-signed DNSKEY set for ${zone}`);
  const token = (await readFile(api.tokenFile, 'utf8')).trim();
  const url = `${api.url}zones/${stripDot(zone)}/dnssec/presigned_dnskey`;
  const response = await fetch(url, {
    method: 'PUT',
    headers: { 'X-NSONE-Key': token, 'Content-Type': 'application/json' },
    body: JSON.stringify(presignedBody(snapshot)),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok)
    throw new LabError(
      `${api.id} refused the owner-signed DNSKEY RRset of ${zone}: HTTP ${response.status} ${text}`,
    );
}
