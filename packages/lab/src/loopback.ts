/**
 * Loopback aliases. Linux accepts a bind() to any 127/8 address, so PowerDNS, Knot and unbound
 * need nothing; named, however, only listens on addresses configured on an interface, so the
 * BIND servers' addresses are added to `lo` (as /32) and removed again by `down`.
 */
import { runTool } from './commands.js';
import { LabError } from './errors.js';

async function loopbackAddresses(ip: string): Promise<Set<string>> {
  const { stdout } = await runTool(ip, ['-4', '-o', 'addr', 'show', 'dev', 'lo']);
  const addresses = new Set<string>();
  for (const match of stdout.matchAll(/\binet\s+(\d+\.\d+\.\d+\.\d+)\//g)) addresses.add(match[1]!);
  return addresses;
}

/** Adds the addresses that `lo` lacks; returns those it added (the ones `down` must remove). */
export async function addLoopbackAliases(
  ip: string,
  addresses: readonly string[],
): Promise<string[]> {
  const present = await loopbackAddresses(ip);
  const added: string[] = [];
  for (const address of addresses) {
    if (present.has(address)) continue;
    try {
      await runTool(ip, ['addr', 'add', `${address}/32`, 'dev', 'lo']);
    } catch (error) {
      await removeLoopbackAliases(ip, added);
      throw new LabError(
        `cannot add ${address} to the loopback interface (named listens only on configured addresses); run as root or with CAP_NET_ADMIN`,
        { cause: error },
      );
    }
    added.push(address);
  }
  return added;
}

/** Removes aliases this lab added; ones already gone are fine. */
export async function removeLoopbackAliases(
  ip: string,
  addresses: readonly string[],
): Promise<void> {
  if (addresses.length === 0) return;
  const present = await loopbackAddresses(ip);
  for (const address of addresses) {
    if (!present.has(address)) continue;
    await runTool(ip, ['addr', 'del', `${address}/32`, 'dev', 'lo'], { allowFailure: true });
  }
}
