/**
 * unbound validating resolvers whose only trust anchor is the lab parent's DS
 * (reference/nameservers.md §5 and §6.15).
 */
import type { StubZone } from './types.js';

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
