/**
 * Separate hosts, simulated (`up --hosts netns`): each server of the lab (the parent, every signer
 * with its API fake, the registry agent, each NATS node) runs in a network namespace of its own,
 * with its own address in a /24 of 198.18.0.0/15 (RFC 2544, never routed) derived from the
 * address prefix. The namespaces hang off one bridge inside a namespace of its own (the switch),
 * and the host reaches them through one veth pair whose host end gets the .254 address: the
 * resolvers, the CLI and the demo run there. A signer's host has routes only to the host, the
 * parent, the registry agent and the NATS nodes, so its sidecar (started in the same namespace)
 * cannot reach another provider's server at all. `down` deletes the namespaces, which removes
 * every address and link they hold.
 */
import { ipProgram, runTool } from './commands.js';
import { LabError } from './errors.js';
import type { LabAddressId } from './config.js';
import type { LabHost, LabHosts, SignerId, ProviderId, TrapId } from './types.js';

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

/** The hosts a signer's namespace may reach besides itself: everything but the other signers. */
const SIGNER_PEERS: readonly LabAddressId[] = [
  'parent',
  'registry-agent',
  'nats-1',
  'nats-2',
  'nats-3',
];

type SignerHostId = SignerId | ProviderId | TrapId;

function isSignerHost(id: LabAddressId): id is SignerHostId {
  return NAMESPACED.has(id) && !(SIGNER_PEERS as readonly string[]).includes(id);
}

/** The /24 of 198.18.0.0/15 for a lab address prefix 127.A.B: 512 of them, by (A + 256 B) mod 512. */
export function netnsSubnet(addressPrefix: string): string {
  const [, a, b] = addressPrefix.split('.').map(Number) as [number, number, number];
  const index = (a + 256 * b) % 512;
  return `198.${18 + Math.floor(index / 256)}.${index % 256}`;
}

/** The hosts of a lab: with `netns`, each namespaced id's address moves into its namespace. */
export function planHosts(
  mode: HostsMode,
  addressPrefix: string,
  numbers: Readonly<Record<LabAddressId, number>>,
): LabHosts {
  if (mode === 'loopback') return { mode, namespaces: [] };
  const subnet = netnsSubnet(addressPrefix);
  const tag = addressPrefix.split('.').slice(1).join('-');
  const addressOf = (id: LabAddressId) => `${subnet}.${numbers[id]}`;
  const namespaces: LabHost[] = [...NAMESPACED].map((id) => ({
    id,
    namespace: `chorus-${tag}-${id}`,
    address: addressOf(id),
    reaches: isSignerHost(id)
      ? [`${subnet}.${UPLINK_HOST}`, ...SIGNER_PEERS.map(addressOf)]
      : [`${subnet}.0/24`],
  }));
  return {
    mode,
    subnet: `${subnet}.0/24`,
    uplink: { interface: `chorus${tag}`, address: `${subnet}.${UPLINK_HOST}` },
    switchNamespace: `chorus-${tag}-switch`,
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

/** Creates the switch, the uplink and every host's namespace, link, address and routes. */
export async function createHosts(hosts: LabHosts): Promise<void> {
  if (hosts.mode !== 'netns') return;
  const ip = ipProgram();
  const names = [hosts.switchNamespace!, ...hosts.namespaces.map((host) => host.namespace)];
  const present = await existingNamespaces(ip);
  const left = names.filter((name) => present.has(name));
  if (left.length > 0)
    throw new LabError(
      `network namespaces ${left.join(', ')} exist already (left by a lab that was not taken ` +
        `down?); run chorus lab down --dir <its dir>, or ip netns delete each`,
    );
  try {
    await createSwitch(ip, hosts);
    for (const host of hosts.namespaces) await createHost(ip, hosts, host);
  } catch (error) {
    await removeHosts(hosts);
    throw new LabError(`cannot make the lab's network namespaces: ${String(error)}`, {
      cause: error,
    });
  }
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
  const wide = host.reaches.length === 1 && host.reaches[0]!.endsWith('/24');
  await runTool(ip, ['-n', ns, 'addr', 'add', `${host.address}/${wide ? 24 : 32}`, 'dev', 'eth0']);
  await runTool(ip, ['-n', ns, 'link', 'set', 'eth0', 'up']);
  if (wide) return;
  for (const peer of host.reaches)
    await runTool(ip, ['-n', ns, 'route', 'add', `${peer}/32`, 'dev', 'eth0']);
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
