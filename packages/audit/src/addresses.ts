/**
 * Addresses of an NS name the referral carried no glue for: first the parent servers, asked
 * directly (enough for names in the parent zone), then the system resolver (names elsewhere).
 */
import { Resolver } from 'node:dns/promises';
import type { NameServer } from '@chorus/core';
import { namesEqual, query, type QueryOptions } from '@chorus/dns';

export type AddressLookup = (name: string, signal?: AbortSignal) => Promise<string[]>;

/** A and AAAA of `name` in the answers of every parent server that answers. */
async function fromParents(
  parentServers: readonly NameServer[],
  name: string,
  options: QueryOptions,
): Promise<string[]> {
  const asks = parentServers.flatMap((server) =>
    (['A', 'AAAA'] as const).map((type) => query(server, name, type, options)),
  );
  const answers = await Promise.allSettled(asks);
  return answers.flatMap((answer) =>
    answer.status === 'fulfilled'
      ? answer.value.answers
          .filter((set) => (set.type === 'A' || set.type === 'AAAA') && namesEqual(set.name, name))
          .flatMap((set) => set.records as string[])
      : [],
  );
}

async function fromSystemResolver(name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  const found = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  return found.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
}

export function defaultAddressLookup(
  parentServers: readonly NameServer[],
  options: QueryOptions,
): AddressLookup {
  return async (name) => {
    const direct = await fromParents(parentServers, name, options);
    const addresses =
      direct.length > 0 ? direct : await fromSystemResolver(name.replace(/\.$/, ''));
    return [...new Set(addresses)].sort();
  };
}
