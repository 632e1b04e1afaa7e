/**
 * unbound validating resolvers whose only trust anchor is the lab parent's DS
 * (reference/nameservers.md §5 and §6.15).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { reportedVersion } from './commands.js';
import { toolSucceeds } from './readiness.js';
import { programPath, type LabDaemonKind, type Programs } from './server-kind.js';
import type { LabResolver, LabStatus, StubZone } from './types.js';

export interface UnboundConfigOptions {
  directory: string;
  address: string;
  port: number;
  ttl: number;
  pidFile: string;
  controlSocket: string;
  trustAnchorFile: string;
  stubZones: StubZone[];
}

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

export function unboundConfig(options: UnboundConfigOptions): string {
  const stubZones = options.stubZones.flatMap((stub) => [
    'stub-zone:',
    `  name: ${quoted(stub.zone)}`,
    `  stub-addr: ${stub.address}@${stub.port}`,
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
    `  outgoing-interface: ${options.address}`,
    '  so-reuseport: no',
    '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow',
    // The lab's servers live on 127/8, which unbound skips by default.
    '  do-not-query-localhost: no',
    // unbound serves test. itself (RFC 6761) unless told not to.
    '  local-zone: "test." nodefault',
    `  trust-anchor-file: ${quoted(options.trustAnchorFile)}`,
    `  cache-max-ttl: ${options.ttl}`,
    `  cache-max-negative-ttl: ${options.ttl}`,
    '  val-bogus-ttl: 5',
    '  infra-host-ttl: 30',
    '  infra-keep-probing: yes',
    '',
    'remote-control:',
    '  control-enable: yes',
    `  control-interface: ${quoted(options.controlSocket)}`,
    '  control-use-cert: no',
    '',
    ...stubZones,
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
        port: resolver.port,
        ttl: status.ttl,
        pidFile: resolver.pidFile,
        controlSocket: resolver.control.socket,
        trustAnchorFile: status.trustAnchor.file,
        stubZones: resolver.stubZones,
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
