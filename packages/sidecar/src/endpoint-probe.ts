import { describeServer, query } from '@chorus/dns';
import { SignerConfigurationError, type CallOptions, type Signer } from '@chorus/core';

/**
 * Asks each address the signer declares for the zone's SOA (RD=0, over TCP) and refuses to go
 * on unless every one answers authoritatively: a sidecar with a wrong server address would
 * otherwise register endpoints that the group then observes in vain.
 */
export async function probeEndpoints(
  signer: Pick<Signer, 'id' | 'nameServers'>,
  zone: string,
  options: CallOptions & { timeoutMs?: number } = {},
): Promise<void> {
  for (const endpoint of signer.nameServers) {
    const address = describeServer(endpoint);
    const problem = await soaProblem(endpoint, zone, options).catch(
      (error: unknown) =>
        `it does not answer: ${error instanceof Error ? error.message : String(error)}`,
    );
    if (problem === undefined) continue;
    throw new SignerConfigurationError({
      signerId: signer.id,
      zone,
      setting: 'server',
      problem: `the signer's address ${address} does not serve ${zone} (SOA query: ${problem})`,
      fix: 'give the address and port on which this signer answers authoritatively for the zone',
    });
  }
}

async function soaProblem(
  endpoint: Signer['nameServers'][number],
  zone: string,
  options: CallOptions & { timeoutMs?: number },
): Promise<string | undefined> {
  const response = await query(endpoint, zone, 'SOA', {
    transport: 'tcp',
    timeoutMs: options.timeoutMs ?? 2000,
    retries: 1,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (response.rcode !== 'NOERROR') return `rcode ${response.rcode}`;
  if (!response.flags.aa) return 'the answer is not authoritative';
  if (!response.answers.some((set) => set.type === 'SOA')) return 'no SOA in the answer';
  return undefined;
}
