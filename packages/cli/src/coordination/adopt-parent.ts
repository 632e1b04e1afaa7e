/**
 * The parent servers `zone define` asks when it adopts a group: the ones given with
 * `--parent-server`, else the parent zone's nameservers as the system resolver finds them.
 */
import { Resolver } from 'node:dns/promises';
import { ChorusError, type NameServer } from '@chorus/core';
import { UsageError } from '../args.js';
import { parseServer } from '../commands/query.js';

/** `--parent-server ADDR[:PORT]` values, each an IP address (IPv6 as `[ADDR]:PORT` with a port). */
export function parentServerOptions(values: readonly string[], command: string): NameServer[] {
  return values.map((value) => {
    try {
      return parseServer(value);
    } catch {
      throw new UsageError(
        `--parent-server needs an IP address with an optional :PORT ([ADDR]:PORT for IPv6), got ${JSON.stringify(value)}`,
        command,
      );
    }
  });
}

const errorCode = (error: unknown) =>
  (error as { code?: string } | null)?.code ?? (error instanceof Error ? error.message : 'failed');

/** Every IPv4 and IPv6 address of `name`; none when it has none. */
async function addressesOf(resolver: Resolver, name: string): Promise<string[]> {
  const lookups = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
  return lookups.flatMap((lookup) => (lookup.status === 'fulfilled' ? lookup.value : []));
}

/** The parent zone's nameserver addresses through the system resolver, or an error saying so. */
async function lookUpParentServers(parentZone: string): Promise<NameServer[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  const name = parentZone === '.' ? '.' : parentZone.replace(/\.$/, '');
  const unknown = (why: string) =>
    new ChorusError('Chorus_ParentServersUnknownError', {
      message: `cannot find the nameservers of the parent zone ${parentZone} through the system resolver (${why}): give every address of the parent's nameservers with --parent-server ADDR[:PORT]`,
    });
  let names: string[];
  try {
    names = await resolver.resolveNs(name);
  } catch (error) {
    throw unknown(`NS lookup: ${errorCode(error)}`);
  }
  const addresses = [
    ...new Set((await Promise.all(names.map((ns) => addressesOf(resolver, ns)))).flat()),
  ];
  if (addresses.length === 0) throw unknown(`no address for ${names.join(', ') || 'its NS names'}`);
  return addresses.sort().map((address) => ({ address, port: 53 }));
}

/** Where each parent zone's servers come from: `given` for every parent, else a cached lookup. */
export function parentServerSource(
  given: readonly NameServer[],
): (parentZone: string) => Promise<NameServer[]> {
  if (given.length > 0) return () => Promise.resolve([...given]);
  const found = new Map<string, Promise<NameServer[]>>();
  return (parentZone) => {
    const known = found.get(parentZone) ?? lookUpParentServers(parentZone);
    found.set(parentZone, known);
    return known;
  };
}
