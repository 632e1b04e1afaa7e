/**
 * Everything `up` writes before the daemons start: secrets, configs, zone files, keys and the
 * PowerDNS database, plus the version strings of the programs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createBindZoneKeys, namedConfig, rndcConfig, type BindZoneKeys } from './bind.js';
import { runTool } from './commands.js';
import { BROKEN_ZONE, PARENT_ZONE, POWERDNS_API_PORT, type LabConfig } from './config.js';
import { LabError } from './errors.js';
import { knotConfig } from './knot.js';
import { writeRegistryAgentConfig } from './registry-agent-process.js';
import { serverById, stripDot, zoneFileName, type Programs } from './plan.js';
import { pdnsConfig, POWERDNS_SCHEMA_FILE, preparePowerDnsDatabase } from './powerdns.js';
import {
  bindKeyStatement,
  knotKeySection,
  newApiKey,
  newTsigSecret,
  writeSecretFile,
} from './secrets.js';
import type { DsRecordStatus, LabResolver, LabServer, LabStatus, ServerId } from './types.js';
import { bindSettings, knotSettings, powerDnsSettings } from './traps.js';
import { unboundConfig } from './unbound.js';
import { childZoneFile, parentZoneFile } from './zones.js';

function firstMatch(text: string, pattern: RegExp): string {
  return pattern.exec(text)?.[1] ?? 'unknown';
}

/** Version strings as the daemons report them. */
async function programVersions(programs: Programs) {
  const [named, pdns, knotd, unbound] = await Promise.all([
    runTool(programs.named, ['-v'], { allowFailure: true }),
    runTool(programs.pdns_server, ['--version'], { allowFailure: true }),
    runTool(programs.knotd, ['-V'], { allowFailure: true }),
    runTool(programs.unbound, ['-V'], { allowFailure: true }),
  ]);
  return {
    bind: firstMatch(named.stdout + named.stderr, /BIND\s+(\S+)/),
    powerdns: firstMatch(pdns.stdout + pdns.stderr, /PowerDNS Authoritative Server\s+(\S+)/),
    knot: firstMatch(knotd.stdout + knotd.stderr, /version\s+(\S+)/),
    unbound: firstMatch(unbound.stdout + unbound.stderr, /Version\s+(\S+)/),
  };
}

function parseDs(zone: string, ttl: number, rdata: string): DsRecordStatus {
  const [keyTag, algorithm, digestType, digest] = rdata.split(/\s+/);
  return {
    text: `${zone} ${ttl} IN DS ${rdata}`,
    keyTag: Number(keyTag),
    algorithm: Number(algorithm),
    digestType: Number(digestType),
    digest: digest ?? '',
  };
}

/** A DS with the right key tag and algorithm but a digest of random bytes: matches no key. */
function bogusDs(realDs: string): string {
  const [keyTag, algorithm, digestType] = realDs.split(/\s+/);
  return `${keyTag} ${algorithm} ${digestType} ${randomBytes(32).toString('hex').toUpperCase()}`;
}

/** Writes every secret file and returns the values the config generators need. */
async function writeSecrets(status: LabStatus) {
  const tsigSecrets = new Map<ServerId, string>();
  const apiKeys = new Map<ServerId, string>();
  const writes: Promise<void>[] = [];
  for (const server of status.servers) {
    const secret = newTsigSecret();
    tsigSecrets.set(server.id, secret);
    writes.push(writeSecretFile(server.tsig.keyFile, bindKeyStatement(server.tsig.name, secret)));
    switch (server.control.kind) {
      case 'rndc':
        writes.push(
          writeSecretFile(
            server.control.keyFile,
            bindKeyStatement(rndcKeyName(server), newTsigSecret()),
          ),
        );
        break;
      case 'powerdns-api': {
        const apiKey = newApiKey();
        apiKeys.set(server.id, apiKey);
        writes.push(writeSecretFile(server.control.apiKeyFile, `${apiKey}\n`));
        break;
      }
      case 'knotc':
        writes.push(
          writeSecretFile(knotKeySectionFile(server), knotKeySection(server.tsig.name, secret)),
        );
        break;
    }
  }
  await Promise.all(writes);
  const lookup = (map: Map<ServerId, string>, id: ServerId) => {
    const value = map.get(id);
    if (value === undefined) throw new LabError(`internal: no secret for ${id}`);
    return value;
  };
  return {
    tsigSecret: (id: ServerId) => lookup(tsigSecrets, id),
    apiKey: (id: ServerId) => lookup(apiKeys, id),
  };
}

function rndcKeyName(server: LabServer): string {
  return `chorus-rndc-${server.id}`;
}

function knotKeySectionFile(server: LabServer): string {
  return path.join(server.directory, 'tsig.knot.conf');
}

function bindZoneFile(server: LabServer, zone: string): string {
  return path.join(server.directory, zoneFileName(zone, 'db'));
}

async function writeBindConfig(server: LabServer, ttl: number): Promise<void> {
  if (server.control.kind !== 'rndc') throw new LabError(`internal: ${server.id} is not BIND`);
  await mkdir(server.keys.path, { recursive: true });
  const options = {
    directory: server.directory,
    address: server.address,
    port: server.port,
    rndcPort: server.control.port,
    rndcKeyName: rndcKeyName(server),
    rndcKeyFile: server.control.keyFile,
  };
  await Promise.all([
    writeFile(
      server.configFile,
      namedConfig({
        ...options,
        ttl,
        role: server.role,
        ...bindSettings(server.id),
        zones: server.zones.map((zone) => ({
          zone: stripDot(zone),
          file: bindZoneFile(server, zone),
        })),
        keyDirectory: server.keys.path,
        tsigKeyName: server.tsig.name,
        tsigKeyFile: server.tsig.keyFile,
        pidFile: server.pidFile,
      }),
    ),
    writeFile(server.control.configFile, rndcConfig(options)),
  ]);
}

/** BIND signer or trap: zone files, then keys; returns each zone's keys (for the parent's DS). */
async function prepareBindSigner(
  server: LabServer,
  ttl: number,
  programs: Programs,
): Promise<BindZoneKeys[]> {
  await writeBindConfig(server, ttl);
  await Promise.all(
    server.zones.map((zone) =>
      writeFile(
        bindZoneFile(server, zone),
        childZoneFile({ zone, ttl, nameserverName: server.nameserverName }),
      ),
    ),
  );
  return Promise.all(
    server.zones.map((zone) =>
      createBindZoneKeys(bindPrograms(programs), {
        zone: stripDot(zone),
        keyDirectory: server.keys.path,
        configFile: server.configFile,
        publishCds: true,
      }),
    ),
  );
}

function bindPrograms(programs: Programs) {
  return {
    dnssecKeygen: programs['dnssec-keygen'],
    dnssecSettime: programs['dnssec-settime'],
    dnssecDsfromkey: programs['dnssec-dsfromkey'],
  };
}

async function preparePowerDns(
  server: LabServer,
  config: LabConfig,
  programs: Programs,
  secrets: { apiKey: string; tsigSecret: string },
): Promise<void> {
  const zonesDirectory = path.join(server.directory, 'zones');
  await mkdir(zonesDirectory, { recursive: true });
  const zones = server.zones.map((zone) => ({
    zone: stripDot(zone),
    file: path.join(zonesDirectory, zoneFileName(zone, 'zone')),
  }));
  await Promise.all([
    writeSecretFile(
      server.configFile,
      pdnsConfig({
        directory: server.directory,
        address: server.address,
        port: server.port,
        apiPort: POWERDNS_API_PORT,
        apiKey: secrets.apiKey,
        database: server.keys.path,
        ...powerDnsSettings(server.id),
      }),
    ),
    ...server.zones.map((zone, index) =>
      writeFile(
        zones[index]!.file,
        childZoneFile({ zone, ttl: config.ttl, nameserverName: server.nameserverName }),
      ),
    ),
  ]);
  await preparePowerDnsDatabase({
    pdnsutil: programs.pdnsutil,
    configDirectory: server.directory,
    database: server.keys.path,
    schema: await readFile(POWERDNS_SCHEMA_FILE, 'utf8'),
    zones,
    tsigKeyName: server.tsig.name,
    tsigSecret: secrets.tsigSecret,
  });
}

async function prepareKnot(server: LabServer, ttl: number): Promise<void> {
  if (server.control.kind !== 'knotc') throw new LabError('internal: knot has no knotc control');
  await mkdir(server.keys.path, { recursive: true });
  await Promise.all([
    writeFile(
      server.configFile,
      knotConfig({
        directory: server.directory,
        address: server.address,
        port: server.port,
        ttl,
        zones: server.zones,
        controlSocket: server.control.socket,
        pidFile: server.pidFile,
        keyDirectory: server.keys.path,
        tsigKeyName: server.tsig.name,
        tsigKeySectionFile: knotKeySectionFile(server),
        ...knotSettings(server.id),
      }),
    ),
    ...server.zones.map((zone) =>
      writeFile(
        path.join(server.directory, zoneFileName(zone, 'zone')),
        childZoneFile({ zone, ttl, nameserverName: server.nameserverName }),
      ),
    ),
  ]);
}

async function writeResolverConfig(resolver: LabResolver, status: LabStatus): Promise<void> {
  await writeFile(
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
  );
}

/** The parent zone: nameserver addresses, and delegations to BIND only, with BIND's DS. */
async function writeParentZone(status: LabStatus, signerKeys: BindZoneKeys[]): Promise<void> {
  const parent = serverById(status, 'parent');
  const bind = serverById(status, 'bind');
  const dsOf = (zone: string) => {
    const keys = signerKeys.find((entry) => `${entry.zone}.` === zone);
    if (!keys) throw new LabError(`internal: no BIND keys for ${zone}`);
    return keys.ds;
  };
  await writeFile(
    bindZoneFile(parent, PARENT_ZONE),
    parentZoneFile({
      zone: PARENT_ZONE,
      ttl: status.ttl,
      nameserverName: parent.nameserverName,
      addresses: status.servers.map((server) => ({
        name: server.nameserverName,
        address: server.address,
      })),
      delegations: [
        ...status.zones.map((zone) => ({
          zone,
          nameserverName: bind.nameserverName,
          ds: [dsOf(zone)],
        })),
        // The negative control: a DS that matches none of the zone's keys.
        {
          zone: BROKEN_ZONE,
          nameserverName: bind.nameserverName,
          ds: [bogusDs(dsOf(BROKEN_ZONE))],
        },
      ],
    }),
  );
}

/**
 * Writes everything the daemons need (secrets, configs, zone files, keys, the PowerDNS
 * database, the trust anchor) into the prepared lab directory, and records the program
 * versions and the trust anchor's DS in `status`.
 */
export async function prepareLab(
  status: LabStatus,
  config: LabConfig,
  programs: Programs,
): Promise<void> {
  await Promise.all(
    [...status.servers, ...status.resolvers].map((entry) =>
      mkdir(entry.directory, { recursive: true }),
    ),
  );
  const [versions, secrets] = await Promise.all([programVersions(programs), writeSecrets(status)]);
  for (const server of status.servers) server.version = versions[server.software];
  for (const resolver of status.resolvers) resolver.version = versions.unbound;

  const parent = serverById(status, 'parent');
  const bind = serverById(status, 'bind');
  /** Signers and traps alike; only the BIND signer's keys go into the parent. */
  const prepareServer = async (server: LabServer): Promise<void> => {
    switch (server.software) {
      case 'bind':
        await prepareBindSigner(server, config.ttl, programs);
        return;
      case 'powerdns':
        return preparePowerDns(server, config, programs, {
          apiKey: secrets.apiKey(server.id),
          tsigSecret: secrets.tsigSecret(server.id),
        });
      case 'knot':
        return prepareKnot(server, config.ttl);
    }
  };
  const [parentKeys, signerKeys] = await Promise.all([
    writeBindConfig(parent, config.ttl).then(() =>
      createBindZoneKeys(bindPrograms(programs), {
        zone: stripDot(PARENT_ZONE),
        keyDirectory: parent.keys.path,
        configFile: parent.configFile,
        publishCds: false,
      }),
    ),
    prepareBindSigner(bind, config.ttl, programs),
    ...status.servers
      .filter((server) => server.id !== 'parent' && server.id !== 'bind')
      .map(prepareServer),
  ]);
  await writeParentZone(status, signerKeys);

  status.trustAnchor.ds = [parseDs(PARENT_ZONE, config.ttl, parentKeys.ds)];
  await writeFile(
    status.trustAnchor.file,
    status.trustAnchor.ds.map((ds) => `${ds.text}\n`).join(''),
  );
  await Promise.all([
    ...status.resolvers.map((resolver) => writeResolverConfig(resolver, status)),
    writeRegistryAgentConfig(status),
  ]);
}
