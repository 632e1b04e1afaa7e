/**
 * Everything `up` writes before the daemons start: each server's TSIG key and what its kind
 * prepares (configs, own secrets, zone files, keys), the parent zone, the trust anchor files and
 * the resolvers' configs, plus the version strings of the programs.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { OwnerKey, PlannedZsks, SignedDnskeySnapshot } from '@chorus/core';
import { bindZoneFile } from './bind.js';
import {
  BROKEN_ZONE,
  DSYNC_TARGET_LABEL,
  PARENT_ZONE,
  SIGNER_IDS,
  type LabConfig,
} from './config.js';
import { LabError } from './errors.js';
import { serverById } from './plan.js';
import { prepareProviderApis } from './provider-apis.js';
import { writeRegistryAgentConfig } from './registry-agent-process.js';
import { bindKeyStatement, newTsigSecret, writeSecretFile } from './secrets.js';
import {
  createOwnerKey,
  OWNER_PROVIDERS,
  ownerFirstSigning,
  type OwnerFirstSigning,
} from './owner.js';
import { powerDnsZsks } from './powerdns.js';
import { programPath, type Programs, type ZoneDs } from './server-kind.js';
import { serverKind } from './server-kinds.js';
import type { DsRecordStatus, LabServer, LabStatus, LabTrustAnchor, ServerId } from './types.js';
import { unboundKind } from './unbound.js';
import { parentZoneFile, type Delegation, type ParentZoneOptions } from './zones.js';

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

function dsOf(keys: readonly ZoneDs[], zone: string): string {
  const found = keys.find((entry) => entry.zone === zone);
  if (!found) throw new LabError(`internal: no DS for ${zone}`);
  return found.ds;
}

type KeysOf = (id: ServerId) => readonly ZoneDs[];

/** The lab's zones to BIND with BIND's DS, and the broken zone with a DS that matches nothing. */
function signedDelegations(status: LabStatus, keysOf: KeysOf): Delegation[] {
  const bind = [serverById(status, 'bind').nameserverName];
  return [
    ...status.zones.map((zone) => ({
      zone,
      nameserverNames: bind,
      ds: [dsOf(keysOf('bind'), zone)],
    })),
    // The negative control: a DS that matches none of the zone's keys.
    { zone: BROKEN_ZONE, nameserverNames: bind, ds: [bogusDs(dsOf(keysOf('bind'), BROKEN_ZONE))] },
  ];
}

/** Each insecure zone to the three signers, without DS. */
function insecureDelegations(status: LabStatus): Delegation[] {
  const names = SIGNER_IDS.map((id) => serverById(status, id).nameserverName);
  return status.insecureZones.map((zone) => ({ zone, nameserverNames: names, ds: [] }));
}

/** Each signalling zone to its signer, with that signer's DS. */
function signallingDelegations(status: LabStatus, keysOf: KeysOf): Delegation[] {
  return status.signalling.map(({ server, zone, nameserver }) => ({
    zone,
    nameserverNames: [nameserver],
    ds: [dsOf(keysOf(server), zone)],
  }));
}

/** Where the registry agent takes NOTIFY, published as DSYNC; nothing without an agent. */
function dsyncOf(status: LabStatus): Pick<ParentZoneOptions, 'dsync'> {
  const agent = status.registryAgent;
  if (!agent) return {};
  return { dsync: { targetName: DSYNC_TARGET_LABEL, address: agent.address, port: agent.port } };
}

/** The parent zone: nameserver addresses (glue under a signalling zone) and every delegation. */
async function writeParentZone(status: LabStatus, keysOf: KeysOf): Promise<void> {
  const parent = serverById(status, 'parent');
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
        ...signedDelegations(status, keysOf),
        ...insecureDelegations(status),
        ...signallingDelegations(status, keysOf),
        ...ownerDelegations(status),
      ],
      ...dsyncOf(status),
    }),
  );
}

/** The anchor as delv's `-a` file wants it: `trust-anchors { test. static-ds 1 13 2 "HEX"; };`. */
export function delvTrustAnchors(anchor: Pick<LabTrustAnchor, 'zone' | 'ds'>): string {
  const lines = anchor.ds.map(
    (ds) =>
      `  ${anchor.zone} static-ds ${ds.keyTag} ${ds.algorithm} ${ds.digestType} "${ds.digest}";`,
  );
  return ['trust-anchors {', ...lines, '};', ''].join('\n');
}

async function writeTrustAnchor(anchor: LabTrustAnchor): Promise<void> {
  await Promise.all([
    writeFile(anchor.file, anchor.ds.map((ds) => `${ds.text}\n`).join('')),
    writeFile(anchor.delvFile, delvTrustAnchors(anchor)),
  ]);
}

/** Server directories are 0700: they hold TSIG keys, control keys and private keys. */
async function makeDirectories(status: LabStatus): Promise<void> {
  await Promise.all([
    ...status.servers.map(async (server) => {
      await mkdir(server.directory, { recursive: true, mode: 0o700 });
      await chmod(server.directory, 0o700);
    }),
    ...status.resolvers.map((resolver) => mkdir(resolver.directory, { recursive: true })),
  ]);
}

/** Each program's version, asked once per kind. */
async function recordVersions(status: LabStatus, programs: Programs): Promise<void> {
  const kinds = [...new Set(status.servers.map((server) => server.software))];
  const versions = new Map(
    await Promise.all(
      kinds.map(
        async (software) => [software, await serverKind({ software }).version(programs)] as const,
      ),
    ),
  );
  for (const server of status.servers) server.version = versions.get(server.software) ?? 'unknown';
  const unbound = await unboundKind.version(programs);
  for (const resolver of status.resolvers) resolver.version = unbound;
}

/** The server's TSIG key in BIND format (0600), then whatever its kind prepares. */
async function prepareServer(
  server: LabServer,
  config: LabConfig,
  programs: Programs,
  owner: OwnerFirstSigning | undefined,
): Promise<ZoneDs[]> {
  const tsigSecret = newTsigSecret();
  await writeSecretFile(server.tsig.keyFile, bindKeyStatement(server.tsig.name, tsigSecret));
  const withOwner = owner && server.zones.includes(owner.status.zone) ? { owner } : {};
  return serverKind(server).prepare(server, { config, programs, tsigSecret, ...withOwner });
}

/** The model-1 zone to the signers that serve it, with the owner's DS. */
function ownerDelegations(status: LabStatus): Delegation[] {
  const owner = status.owner;
  if (!owner?.ds) return [];
  return [
    {
      zone: owner.zone,
      nameserverNames: owner.servers.map((id) => serverById(status, id).nameserverName),
      ds: [owner.ds],
    },
  ];
}

/** The provider fakes' servers of the model-1 zone (Knot aside). */
function ownerProviderServers(status: LabStatus): LabServer[] {
  const servers: readonly ServerId[] = status.owner?.servers ?? [];
  const providers: readonly ServerId[] = OWNER_PROVIDERS;
  return status.servers.filter(
    (server) => providers.includes(server.id) && servers.includes(server.id),
  );
}

/** Each provider's ZSKs of the model-1 zone from now on (they keep them), by server id. */
async function providerPlans(
  servers: readonly LabServer[],
  zone: string,
  programs: Programs,
): Promise<Record<string, PlannedZsks[]>> {
  const at = Math.floor(Date.now() / 1000);
  const pdnsutil = programPath(programs, 'pdnsutil');
  const plans = await Promise.all(
    servers.map(async (server) => {
      const zsks = await powerDnsZsks(pdnsutil, server, zone);
      const plan: PlannedZsks[] = [{ at, zsks }];
      return [server.id, plan] as const;
    }),
  );
  return Object.fromEntries(plans);
}

interface PreparedServers {
  keysOf: KeysOf;
  /** The owner's first DNSKEY snapshots (with `owner`), which the providers get once running. */
  ownerSnapshots?: SignedDnskeySnapshot[];
}

/**
 * Every server's files. The providers of the model-1 zone come first: the owner's one first
 * DNSKEY RRset, signed while Knot prepares, holds their ZSKs too.
 */
async function prepareServers(
  status: LabStatus,
  config: LabConfig,
  programs: Programs,
  ownerKey: OwnerKey | undefined,
): Promise<PreparedServers> {
  const keys = new Map<ServerId, ZoneDs[]>();
  const prepare = (servers: readonly LabServer[], owner?: OwnerFirstSigning) =>
    Promise.all(
      servers.map(async (server) =>
        keys.set(server.id, await prepareServer(server, config, programs, owner)),
      ),
    );
  const first = ownerProviderServers(status);
  await prepare(first);
  const owner =
    ownerKey && status.owner
      ? ownerFirstSigning(
          ownerKey,
          status.owner,
          config.ttl,
          await providerPlans(first, status.owner.zone, programs),
        )
      : undefined;
  await prepare(
    status.servers.filter((server) => !first.includes(server)),
    owner,
  );
  return {
    keysOf: (id) => keys.get(id) ?? [],
    ...(owner?.snapshots ? { ownerSnapshots: owner.snapshots } : {}),
  };
}

/**
 * Writes everything the daemons need into the prepared lab directory, and records the program
 * versions and the trust anchor's DS in `status`. Returns the owner's first DNSKEY snapshots
 * with `owner` (Knot has imported them; the provider fakes of the zone take them once running).
 */
export async function prepareLab(
  status: LabStatus,
  config: LabConfig,
  programs: Programs,
): Promise<SignedDnskeySnapshot[] | undefined> {
  await makeDirectories(status);
  const ownerKey = status.owner
    ? await createOwnerKey(status.owner, programPath(programs, 'softhsm2-util'))
    : undefined;
  const [, { keysOf, ownerSnapshots }] = await Promise.all([
    recordVersions(status, programs),
    prepareServers(status, config, programs, ownerKey),
  ]).finally(() => ownerKey?.close());
  await writeParentZone(status, keysOf);

  status.trustAnchor.ds = [parseDs(PARENT_ZONE, config.ttl, dsOf(keysOf('parent'), PARENT_ZONE))];
  await Promise.all([
    writeTrustAnchor(status.trustAnchor),
    ...status.resolvers.map((resolver) => unboundKind.prepare(resolver, status)),
    writeRegistryAgentConfig(status),
    prepareProviderApis(status.providers, status.servers, config.ttl),
  ]);
  return ownerSnapshots;
}
