/**
 * The registry of daemon kinds, and the lab's program list derived from it. A new server kind is
 * one file with its `LabServerKind` and one line here.
 */
import { bindKind } from './bind.js';
import type { RequiredFile } from './commands.js';
import { knotKind } from './knot.js';
import { SOFTHSM_MODULE } from './owner.js';
import { powerDnsKind } from './powerdns.js';
import type { CheckResult } from './readiness.js';
import type { LabDaemonKind, LabServerKind, Programs } from './server-kind.js';
import type { LabResolver, LabServer } from './types.js';
import { unboundKind } from './unbound.js';

export const SERVER_KINDS: Readonly<Record<LabServer['software'], LabServerKind>> = {
  bind: bindKind,
  powerdns: powerDnsKind,
  knot: knotKind,
};

const DAEMON_KINDS: readonly LabDaemonKind<LabServer | LabResolver>[] = [
  ...Object.values(SERVER_KINDS),
  unboundKind,
] as readonly LabDaemonKind<never>[];

/** Tools outside any kind: `ip` for the loopback aliases, and look-around tools for operators. */
const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  ip: 'iproute2',
  'tsig-keygen': 'bind9',
  dig: 'bind9-dnsutils',
  delv: 'bind9-dnsutils',
  kdig: 'knot-dnsutils',
  'softhsm2-util': 'softhsm2',
};

/** Which Debian package ships each program the lab knows (checked with `dpkg -S` on Debian 12). */
export const DEBIAN_PACKAGE_OF: Readonly<Record<string, string>> = Object.assign(
  {},
  ...DAEMON_KINDS.map((kind) => kind.programs),
  TOOL_PACKAGES,
) as Record<string, string>;

/** The programs `chorus lab up` runs, plus the control tools its status points to. */
export const LAB_PROGRAMS: readonly string[] = [
  ...DAEMON_KINDS.flatMap((kind) => Object.keys(kind.programs)),
  'ip',
  'softhsm2-util',
];

/** Data files the lab needs, with their Debian package. */
export const REQUIRED_FILES: readonly RequiredFile[] = [
  ...DAEMON_KINDS.flatMap((kind) => kind.requiredFiles ?? []),
  // The owner's KSK of `up --owner` (model 1).
  { what: 'the SoftHSM2 PKCS#11 module', path: SOFTHSM_MODULE, debianPackage: 'softhsm2' },
];

export function serverKind(server: Pick<LabServer, 'software'>): LabServerKind {
  return SERVER_KINDS[server.software];
}

export function daemonArguments(entry: LabServer | LabResolver): string[] {
  return entry.software === 'unbound'
    ? unboundKind.daemonArguments(entry)
    : serverKind(entry).daemonArguments(entry);
}

export function controlSockets(entry: LabServer | LabResolver): string[] {
  return entry.software === 'unbound'
    ? unboundKind.sockets(entry)
    : serverKind(entry).sockets(entry);
}

export function controlCheck(
  entry: LabServer | LabResolver,
  programs: Programs,
): () => Promise<CheckResult> {
  return entry.software === 'unbound'
    ? unboundKind.controlCheck(entry, programs)
    : serverKind(entry).controlCheck(entry, programs);
}
