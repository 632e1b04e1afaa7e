/** A start-up check of DNS UPDATE credentials that changes nothing on the server. */
import type { NameServer } from '@chorus/core';
import type { TsigKey } from '../tsig.js';
import { UpdateBuilder, sendUpdate } from '../update.js';
import { signalOption } from './abort.js';

/**
 * Sends a TSIG-signed UPDATE whose only content is a prerequisite (the zone's SOA exists). The
 * server checks the signature and the update permission and changes nothing (no serial bump).
 * Rejects with TsigError (BADSIG, BADKEY: not retryable) or DnsResponseError (REFUSED, NOTAUTH:
 * the key may not update the zone); the secret never appears in either.
 *
 * @example
 * await probeUpdateAccess({ address: '127.0.0.1', port: 53 }, 'example.test.', tsig, { signal });
 */
export async function probeUpdateAccess(
  server: NameServer,
  zone: string,
  tsig: TsigKey,
  options: { signal?: AbortSignal | undefined; timeoutMs?: number } = {},
): Promise<void> {
  await sendUpdate(server, new UpdateBuilder(zone).requireRRsetExists(zone, 'SOA'), {
    tsig,
    ...signalOption(options.signal),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}
