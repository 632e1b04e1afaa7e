/**
 * Separate hosts, simulated (`up --hosts netns`): each server of the lab (the parent, every signer
 * with its API fake, the registry agent, each NATS node) runs in a network namespace of its own,
 * with its own address in a /24 of 198.18.0.0/15 (RFC 2544, never routed) derived from the
 * address prefix. The namespaces hang off one bridge inside a namespace of its own (the switch),
 * and the lab's host reaches them through one veth pair whose host end gets the .254 address: the
 * resolvers, the CLI and the demo run there. The switch's firewall (nftables, bridge family) lets
 * one signer's host reach another's on port 53 only, as the public Internet would: a sidecar,
 * started in its server's namespace, can query every provider's nameserver but reach no other
 * provider's control channel, API or transfers. `down` deletes the namespaces, which removes every
 * address, link and rule in them.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ipProgram, runTool } from './commands.js';
import { LabError } from './errors.js';
import type { LabAddressId } from './config.js';
import type { LabHost, LabHosts } from './types.js';

export type HostsMode = LabHosts['mode'];
export const HOSTS_MODES: readonly HostsMode[] = ['loopback', 'netns'];

/** The last octet of the host's own end of the link into the switch. */
const UPLINK_HOST = 254;

/** Ids that run in a namespace of their own with `--hosts netns` (resolvers stay on the host). */
const NAMESPACED = new Set<LabAddressId>([
  'parent',
  'bind',
  'powerdns',
  'knot',
  'desec',
  'ns1',
  'bind-inline-signing',
  'powerdns-no-direct-dnskey',
  'knot-full-management',
  'knot-zonefile-revert',
  'registry-agent',
  'nats-1',
  'nats-2',
  'nats-3',
]);

/** The hosts that are not signers: every host reaches them on every port. */
const SHARED: readonly LabAddressId[] = ['parent', 'registry-agent', 'nats-1', 'nats-2', 'nats-3'];

function isSignerHost(id: LabAddressId): boolean {
  return NAMESPACED.has(id) && !SHARED.includes(id);
}

/** The /24 of 198.18.0.0/15 for a lab address prefix 127.A.B: 512 of them, by (A + 256 B) mod 512. */
export function netnsSubnet(addressPrefix: string): string {
  const [, a, b] = addressPrefix.split('.').map(Number) as [number, number, number];
  const index = (a + 256 * b) % 512;
  return `198.${18 + Math.floor(index / 256)}.${index % 256}`;
}

/**
 * The hosts of a lab: with `netns`, each of `running` that gets a host of its own (servers, the
 * registry agent, NATS nodes) has its address in its own namespace.
 */
export function planHosts(
  mode: HostsMode,
  addressPrefix: string,
  numbers: Readonly<Record<LabAddressId, number>>,
  running: readonly LabAddressId[],
  directory: string,
): LabHosts {
  if (mode === 'loopback') return { mode, namespaces: [] };
  const subnet = netnsSubnet(addressPrefix);
  const tag = addressPrefix.split('.').slice(1).join('-');
  const addressOf = (id: LabAddressId) => `${subnet}.${numbers[id]}`;
  const namespaces: LabHost[] = running
    .filter((id) => NAMESPACED.has(id))
    .map((id) => ({
      id,
      namespace: `chorus-${tag}-${id}`,
      address: addressOf(id),
      signer: isSignerHost(id),
    }));
  return {
    mode,
    subnet: `${subnet}.0/24`,
    uplink: { interface: `chorus${tag}`, address: `${subnet}.${UPLINK_HOST}` },
    switchNamespace: `chorus-${tag}-switch`,
    firewallFile: path.join(directory, 'hosts', 'switch.nft'),
    namespaces,
  };
}

/** The namespace an id runs in, if any. */
export function namespaceOf(hosts: LabHosts | undefined, id: string): string | undefined {
  return hosts?.namespaces.find((host) => host.id === id)?.namespace;
}

/** The address `id` has in `hosts`, or undefined when it stays on loopback. */
export function hostAddressOf(hosts: LabHosts, id: string): string | undefined {
  return hosts.namespaces.find((host) => host.id === id)?.address;
}

/**
 * Who may use a server's control and transfer channels: loopback, and with `--hosts netns` its own
 * host (where its sidecar runs) and the lab's host (the operator), never another signer's host.
 */
export function controlClients(hosts: LabHosts | undefined, address: string): string[] {
  if (hosts?.mode !== 'netns') return ['127.0.0.0/8'];
  return ['127.0.0.0/8', `${address}/32`, `${hosts.uplink!.address}/32`];
}

/** Refuses `--hosts netns` where namespaces cannot be made, saying why. */
export function requireNamespaces(uid = process.getuid?.()): void {
  if (uid === 0) return;
  throw new LabError(
    '--hosts netns runs each server in a network namespace of its own, which needs root ' +
      '(CAP_SYS_ADMIN and CAP_NET_ADMIN); run as root, or leave out --hosts netns to keep every ' +
      'server on loopback',
  );
}

async function existingNamespaces(ip: string): Promise<Set<string>> {
  const { stdout } = await runTool(ip, ['netns', 'list']);
  return new Set(stdout.split('\n').map((line) => line.trim().split(/\s+/)[0]!));
}

/** The namespaces among `names` that some process still runs in. */
async function occupiedNamespaces(ip: string, names: readonly string[]): Promise<string[]> {
  const occupied: string[] = [];
  for (const name of names) {
    const { stdout } = await runTool(ip, ['netns', 'pids', name], { allowFailure: true });
    if (stdout.trim() !== '') occupied.push(name);
  }
  return occupied;
}

/**
 * Creates the switch, the uplink and every host's namespace, link, address and routes. Namespaces
 * of this lab's names that a killed lab left behind, with no process in any of them, are deleted
 * first and returned; ones a process still runs in are refused.
 */
export async function createHosts(hosts: LabHosts): Promise<string[]> {
  if (hosts.mode !== 'netns') return [];
  const ip = ipProgram();
  const names = [hosts.switchNamespace!, ...hosts.namespaces.map((host) => host.namespace)];
  const present = await existingNamespaces(ip);
  const left = names.filter((name) => present.has(name));
  const occupied = await occupiedNamespaces(ip, left);
  if (occupied.length > 0)
    throw new LabError(
      `network namespaces ${occupied.join(', ')} exist already with processes in them (another ` +
        `lab on this address prefix?); run chorus lab down --dir <its dir>, or use another ` +
        `--address-prefix`,
    );
  if (left.length > 0) await removeHosts(hosts);
  nftProgram();
  try {
    await createSwitch(ip, hosts);
    await loadFirewall(ip, hosts);
    for (const host of hosts.namespaces) await createHost(ip, hosts, host);
    return left;
  } catch (error) {
    await removeHosts(hosts);
    throw new LabError(`cannot make the lab's network namespaces: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * The switch's rules: between two signers' hosts only DNS (port 53, either way: the bridge keeps no
 * connection state), so that no provider reaches another's control channel, API or transfers.
 */
export function switchFirewall(hosts: LabHosts): string {
  const signers = hosts.namespaces.filter((host) => host.signer).map((host) => host.address);
  if (signers.length === 0) return 'table bridge chorus {\n}\n';
  const between = 'ip saddr @signers ip daddr @signers';
  return [
    'table bridge chorus {',
    `  set signers { type ipv4_addr; elements = { ${signers.join(', ')} } }`,
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    `    ${between} meta l4proto { tcp, udp } th dport 53 accept`,
    `    ${between} meta l4proto { tcp, udp } th sport 53 accept`,
    `    ${between} counter drop`,
    '  }',
    '}',
    '',
  ].join('\n');
}

async function loadFirewall(ip: string, hosts: LabHosts): Promise<void> {
  const file = hosts.firewallFile!;
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, switchFirewall(hosts));
  await runTool(ip, ['netns', 'exec', hosts.switchNamespace!, nftProgram(), '-f', file]);
}

/** `nft`, which `--hosts netns` needs for the switch's rules. */
function nftProgram(): string {
  const found = ['/usr/sbin/nft', '/sbin/nft'].find((candidate) => existsSync(candidate));
  if (!found) throw new LabError('nft is not installed: apt-get install nftables');
  return found;
}

async function createSwitch(ip: string, hosts: LabHosts): Promise<void> {
  const sw = hosts.switchNamespace!;
  const { interface: uplink, address } = hosts.uplink!;
  await runTool(ip, ['netns', 'add', sw]);
  await runTool(ip, ['-n', sw, 'link', 'set', 'lo', 'up']);
  await runTool(ip, ['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
  await runTool(ip, ['-n', sw, 'link', 'set', 'br0', 'up']);
  await runTool(ip, ['link', 'add', uplink, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', sw]);
  await runTool(ip, ['-n', sw, 'link', 'set', 'uplink', 'master', 'br0', 'up']);
  await runTool(ip, ['addr', 'add', `${address}/24`, 'dev', uplink]);
  await runTool(ip, ['link', 'set', uplink, 'up']);
}

async function createHost(ip: string, hosts: LabHosts, host: LabHost): Promise<void> {
  const sw = hosts.switchNamespace!;
  const port = `p-${host.address.split('.').at(-1)}`;
  const ns = host.namespace;
  await runTool(ip, ['netns', 'add', ns]);
  await runTool(ip, ['-n', ns, 'link', 'set', 'lo', 'up']);
  await runTool(ip, [
    '-n',
    sw,
    'link',
    'add',
    port,
    'type',
    'veth',
    'peer',
    'name',
    'eth0',
    'netns',
    ns,
  ]);
  await runTool(ip, ['-n', sw, 'link', 'set', port, 'master', 'br0', 'up']);
  await runTool(ip, ['-n', ns, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
  await runTool(ip, ['-n', ns, 'link', 'set', 'eth0', 'up']);
}

/** Deletes the lab's namespaces and its uplink; ones already gone are fine. */
export async function removeHosts(hosts: LabHosts | undefined): Promise<string[]> {
  if (hosts?.mode !== 'netns') return [];
  const ip = ipProgram();
  const present = await existingNamespaces(ip);
  const removed: string[] = [];
  for (const name of [...hosts.namespaces.map((host) => host.namespace), hosts.switchNamespace!]) {
    if (!present.has(name)) continue;
    await runTool(ip, ['netns', 'delete', name], { allowFailure: true });
    removed.push(name);
  }
  // Deleting the switch took the uplink's peer, and so the uplink; make sure.
  await runTool(ip, ['link', 'delete', hosts.uplink!.interface], { allowFailure: true });
  return removed;
}
