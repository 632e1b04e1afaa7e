/** Human-readable output: the lab status table and query answers. */
import { formatRecord, type QueryResponse } from '@chorus/dns';
import type { DnsRecord, EmptyRecord, HeaderFlags } from '@chorus/core';
import { zoneList, type LabResolver, type LabServer, type LabStatus } from '@chorus/lab';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'NO';
}

function controlText(server: LabServer | LabResolver): string {
  const control = server.control;
  switch (control.kind) {
    case 'rndc':
      return `rndc -c ${control.configFile}   (${control.address}:${control.port}, key ${control.keyFile})`;
    case 'powerdns-api':
      return `${control.url}   (X-API-Key from ${control.apiKeyFile})`;
    case 'knotc':
      return `knotc -c ${control.configFile}   (socket ${control.socket})`;
    case 'unbound-control':
      return `unbound-control -c ${control.configFile}   (socket ${control.socket})`;
  }
}

export function formatLabStatus(status: LabStatus): string {
  const processes = [...status.servers, ...status.resolvers];
  const alive = processes.filter((entry) => entry.alive).length;
  const state = status.running ? 'running' : alive === 0 ? 'STOPPED' : 'DEGRADED';
  const lines = [
    `Chorus lab in ${status.directory}: ${state} (${alive}/${processes.length} processes alive), started ${status.startedAt} in ${(status.startupMs / 1000).toFixed(2)} s`,
    `zones ${zoneList(status.zones)}  negative control ${status.brokenZone}  parent ${status.parentZone}  TTL ${status.ttl} s  port ${status.port}`,
    `trust anchor (only one, in ${status.trustAnchor.file}):`,
    ...status.trustAnchor.ds.map((ds) => `  ${ds.text}`),
    `  for delv: delv -a ${status.trustAnchor.delvFile} +root=${status.parentZone} @<resolver> <name>`,
    `delegation: ${status.delegation.note}`,
  ];
  if (status.loopbackAliases.length > 0) {
    lines.push(`loopback addresses added for named: ${status.loopbackAliases.join(' ')}`);
  }
  lines.push(
    '',
    table(
      ['SERVER', 'ROLE', 'SOFTWARE', 'ADDRESS', 'NS NAME', 'PID', 'ALIVE', 'ZONES'],
      status.servers.map((server) => [
        server.id,
        server.role,
        `${server.software} ${server.version}`,
        `${server.address}:${server.port}`,
        server.nameserverName,
        String(server.pid),
        yesNo(server.alive),
        zoneList(server.zones),
      ]),
    ),
    '',
    table(
      ['RESOLVER', 'MODE', 'ADDRESS', 'PID', 'ALIVE', 'TARGET'],
      status.resolvers.map((resolver) => [
        resolver.id,
        resolver.mode,
        `${resolver.address}:${resolver.port}`,
        String(resolver.pid),
        yesNo(resolver.alive),
        `${resolver.target.server}: ${zoneList(resolver.target.zones)}`,
      ]),
    ),
    '',
  );
  for (const entry of processes) {
    lines.push(`${entry.id}: ${entry.directory}`);
    lines.push(`  config ${entry.configFile}  log ${entry.logFile}  pid file ${entry.pidFile}`);
    lines.push(`  control ${controlText(entry)}`);
    if ('tsig' in entry) {
      lines.push(
        `  TSIG key ${entry.tsig.name} (${entry.tsig.algorithm}) in ${entry.tsig.keyFile}`,
      );
      lines.push(`  DNSSEC keys: ${entry.keys.kind} ${entry.keys.zonePath ?? entry.keys.path}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function flagList(flags: HeaderFlags): string {
  return (Object.keys(flags) as (keyof HeaderFlags)[]).filter((flag) => flags[flag]).join(' ');
}

function section(
  title: string,
  records: readonly (DnsRecord | EmptyRecord)[],
  withSignatures: boolean,
): string[] {
  const shown = records.filter(
    (record): record is DnsRecord =>
      record.data !== null && (withSignatures || record.type !== 'RRSIG'),
  );
  if (shown.length === 0) return [];
  return [`;; ${title}`, ...shown.map((record) => formatRecord(record))];
}

export function formatQueryResponse(
  response: QueryResponse,
  question: { name: string; type: string; via: string },
  withSignatures: boolean,
): string {
  const validation = response.flags.ad
    ? 'AD is set: the resolver validated the answer (DNSSEC secure)'
    : response.flags.aa
      ? 'AA is set: an authoritative answer (authoritative servers do not validate, so no AD)'
      : 'AD is not set: the answer is not validated';
  const lines = [
    `;; ${question.name} ${question.type} asked ${question.via} (${response.server}, ${response.transport}, ${Math.round(response.elapsedMs)} ms)`,
    `;; status ${response.rcode}, flags: ${flagList(response.flags)}`,
    `;; ${validation}`,
    ...section('ANSWER', response.message.answers, withSignatures),
    ...section('AUTHORITY', response.message.authorities, withSignatures),
  ];
  return `${lines.join('\n')}\n`;
}
