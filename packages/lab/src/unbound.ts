/**
 * unbound validating resolvers whose only trust anchor is the lab parent's DS
 * (reference/nameservers.md §5 and §6.15), and one non-validating cache that a validating
 * resolver forwards to.
 */
import { writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import path from 'node:path';
import { reportedVersion } from './commands.js';
import { LabError } from './errors.js';
import { toolSucceeds } from './readiness.js';
import { programPath, type LabDaemonKind, type Programs } from './server-kind.js';
import type { LabResolver, LabStatus, StubZone } from './types.js';

/** Where a resolver forwards a zone (recursion desired): another resolver. */
export interface ForwardZone {
  zone: string;
  address: string;
  port: number;
}

export interface UnboundConfigOptions {
  directory: string;
  address: string;
  /** Where queries leave from: `address`, or the uplink's with the servers in namespaces. */
  outgoingAddress?: string;
  port: number;
  ttl: number;
  pidFile: string;
  controlSocket: string;
  /** null: a non-validating cache (module-config "iterator"). */
  trustAnchorFile: string | null;
  stubZones: StubZone[];
  forwardZones: ForwardZone[];
  /** unbound's default (yes) synthesizes NXDOMAIN from cached NSEC records. */
  aggressiveNsec: boolean;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Validating: the lab's trust anchor only. Otherwise a plain cache that passes RRSIGs on. */
function validation(trustAnchorFile: string | null): string[] {
  if (trustAnchorFile === null) return ['  module-config: "iterator"'];
  return [`  trust-anchor-file: ${quoted(trustAnchorFile)}`];
}

export function unboundConfig(options: UnboundConfigOptions): string {
  const stubZones = options.stubZones.flatMap((stub) => [
    'stub-zone:',
    `  name: ${quoted(stub.zone)}`,
    `  stub-addr: ${stub.address}@${stub.port}`,
    '',
  ]);
  const forwardZones = options.forwardZones.flatMap((forward) => [
    'forward-zone:',
    `  name: ${quoted(forward.zone)}`,
    `  forward-addr: ${forward.address}@${forward.port}`,
    '',
  ]);
  return [
    'server:',
    '  verbosity: 1',
    '  val-log-level: 2',
    '  log-time-ascii: yes',
    '  use-syslog: no',
    '  logfile: ""',
    '  username: ""',
    '  chroot: ""',
    `  directory: ${quoted(options.directory)}`,
    `  pidfile: ${quoted(options.pidFile)}`,
    '  num-threads: 1',
    `  interface: ${options.address}`,
    `  port: ${options.port}`,
    // Queries leave from the resolver's own loopback address and nowhere else.
    `  outgoing-interface: ${options.outgoingAddress ?? options.address}`,
    '  so-reuseport: no',
    '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow',
    // A resolver behind another asks it from there too.
    ...(options.outgoingAddress === undefined
      ? []
      : [`  access-control: ${options.outgoingAddress}/32 allow`]),
    // The lab's servers live on 127/8, which unbound skips by default.
    '  do-not-query-localhost: no',
    // unbound serves test. itself (RFC 6761) unless told not to.
    '  local-zone: "test." nodefault',
    ...validation(options.trustAnchorFile),
    `  cache-max-ttl: ${options.ttl}`,
    `  cache-max-negative-ttl: ${options.ttl}`,
    '  val-bogus-ttl: 5',
    // Every lab server runs on this host's clock: a signature is good from its inception to its
    // expiration exactly, so one left to lapse fails at once (unbound allows up to an hour).
    '  val-sig-skew-min: 0',
    '  val-sig-skew-max: 0',
    '  infra-host-ttl: 30',
    '  infra-keep-probing: yes',
    // No copy outlives its TTL or is refreshed early (the defaults, spelled out): a roll's waits
    // count on caches that keep what they fetched for the TTL, no more, no less.
    '  serve-expired: no',
    '  prefetch: no',
    '  prefetch-key: no',
    // Off: every missing name is asked upstream instead of being synthesized from a cached NSEC.
    `  aggressive-nsec: ${options.aggressiveNsec ? 'yes' : 'no'}`,
    '',
    'remote-control:',
    '  control-enable: yes',
    `  control-interface: ${quoted(options.controlSocket)}`,
    '  control-use-cert: no',
    '',
    ...stubZones,
    ...forwardZones,
  ].join('\n');
}

/** What a resolver kind adds to the shared hooks: its files and its config. */
export interface LabResolverKind extends LabDaemonKind<LabResolver> {
  layout(
    home: string,
    programs: Programs,
  ): Pick<LabResolver, 'software' | 'binary' | 'configFile' | 'logFile' | 'pidFile' | 'control'>;
  prepare(resolver: LabResolver, status: LabStatus): Promise<void>;
}

/** A `forwarded` resolver sends the parent zone and everything below it to its cache. */
function forwardZonesOf(resolver: LabResolver, status: LabStatus): ForwardZone[] {
  const target = resolver.forwardTo;
  return target ? [{ zone: status.parentZone, address: target.address, port: target.port }] : [];
}

/** unbound: every lab resolver. */
export const unboundKind: LabResolverKind = {
  programs: { unbound: 'unbound', 'unbound-control': 'unbound' },
  version: (programs) =>
    reportedVersion(programPath(programs, 'unbound'), ['-V'], /Version\s+(\S+)/),
  layout: (home, programs) => ({
    software: 'unbound',
    binary: programPath(programs, 'unbound'),
    configFile: path.join(home, 'unbound.conf'),
    logFile: path.join(home, 'unbound.log'),
    pidFile: path.join(home, 'unbound.pid'),
    control: {
      kind: 'unbound-control',
      socket: path.join(home, 'control.sock'),
      configFile: path.join(home, 'unbound.conf'),
    },
  }),
  prepare: (resolver, status) =>
    writeFile(
      resolver.configFile,
      unboundConfig({
        directory: resolver.directory,
        address: resolver.address,
        ...(status.hosts?.uplink ? { outgoingAddress: status.hosts.uplink.address } : {}),
        port: resolver.port,
        ttl: status.ttl,
        pidFile: resolver.pidFile,
        controlSocket: resolver.control.socket,
        trustAnchorFile: resolver.validates ? status.trustAnchor.file : null,
        stubZones: resolver.stubZones,
        forwardZones: forwardZonesOf(resolver, status),
        // Behind the cache, each missing name is fetched anew, with the signatures of the moment.
        aggressiveNsec: resolver.mode !== 'forwarded',
      }),
    ),
  daemonArguments: (resolver) => ['-d', '-c', resolver.configFile],
  sockets: (resolver) => [resolver.control.socket],
  controlCheck: (resolver, programs) => () =>
    toolSucceeds(programPath(programs, 'unbound-control'), [
      '-c',
      resolver.control.configFile,
      'status',
    ]),
};

/** unbound-control's wire protocol on a unix socket without certificates: `UBCT1 <command>`. */
function unboundControl(socket: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let reply = '';
    const connection = createConnection(socket, () => connection.end(`UBCT1 ${command}\n`));
    connection.setTimeout(timeoutMs, () =>
      connection.destroy(new LabError(`unbound-control ${command} on ${socket} timed out`)),
    );
    connection.on('data', (chunk: Buffer) => (reply += chunk.toString('utf8')));
    connection.on('error', reject);
    connection.on('close', () => resolve(reply));
  });
}

/**
 * Drops everything a running lab resolver caches at or below `zone`, its DNSSEC key entries
 * included (`unbound-control flush_zone`), so that its next answers are fetched afresh. Speaks
 * to the control socket directly: a few milliseconds, where starting unbound-control takes tens.
 */
export async function flushResolverZone(resolver: LabResolver, zone: string): Promise<void> {
  const reply = await unboundControl(resolver.control.socket, `flush_zone ${zone}`);
  if (!reply.startsWith('ok'))
    throw new LabError(`${resolver.id}: flush_zone ${zone} answered ${JSON.stringify(reply)}`);
}

/** Drops one RRset type at `name` from a running lab resolver's cache (`flush_type`). */
export async function flushResolverType(
  resolver: LabResolver,
  name: string,
  type: string,
): Promise<void> {
  const reply = await unboundControl(resolver.control.socket, `flush_type ${name} ${type}`);
  if (!reply.startsWith('ok'))
    throw new LabError(
      `${resolver.id}: flush_type ${name} ${type} answered ${JSON.stringify(reply)}`,
    );
}
