/**
 * Adopting a group built by hand: is the zone consistent in RFC 8901 model 2 right now, as its
 * signers serve it and the parent delegates it? Pure: what `chorus zone define` observed on the
 * wire comes in, findings come out. Each finding names the signer, the server and the records (in
 * presentation format) and says what to change. One function per rule; `RULES` lists them.
 */
import {
  canonicalName,
  describeServer,
  dnskeyIdentity,
  dsIdentity,
  dsMatchesKey,
  formatRdata,
  isSupportedDigestType,
  keyTag,
  normalizeName,
} from '@chorus/dns';
import type {
  ApexSnapshot,
  BlockReason,
  Delegation,
  DnskeyData,
  DsData,
  SigningKey,
  ZoneEventOf,
} from '@chorus/core';
import { cdsKeysOf, cdsOfKey, nameServersOf } from './desired.js';
import { contentChecks } from './preflight-content.js';
import type { SignerObservation } from './preflight.js';
import type { ZoneState } from './state.js';

/** An address of a signer that did not answer for the zone, and why. */
export interface UnansweredEndpoint {
  server: string;
  error: string;
}

/** What `chorus zone define` observed on the wire before adopting a group. */
export interface AdoptionObservations {
  /** Per signer id, one entry per registered endpoint: its apex as served, or why it did not answer. */
  servers: Record<string, (ApexSnapshot | UnansweredEndpoint)[]>;
  /** The delegation as every parent server serves it, or why it could not be read. */
  delegation: Delegation | { error: string };
}

/** One reason the group is not consistent: plain JSON, `code` machine-readable. */
export type AdoptionFinding = BlockReason;

/** What `zone-defined` records of an adoption (see `adoptionRecord`). */
export type ZoneAdoption = NonNullable<ZoneEventOf<'zone-defined'>['data']['adopted']>;

/** The facts every rule reads. */
interface Adoption {
  state: ZoneState;
  /** Absolute, lower-case. */
  zone: string;
  members: readonly string[];
  /** Every endpoint that answered, with its signer. */
  answered: { signerId: string; apex: ApexSnapshot }[];
  /** Absent when the parent could not be read (see `parentObserved`). */
  delegation: Delegation | undefined;
  observed: AdoptionObservations;
}

type Rule = (adoption: Adoption) => AdoptionFinding[];

const finding = (code: string, message: string): AdoptionFinding => ({ code, message });
const absolute = (name: string) => canonicalName(normalizeName(name));
const listed = (items: readonly string[]) => (items.length > 0 ? items.join(', ') : 'none');
const quoted = (lines: readonly string[]) => lines.map((line) => `"${line}"`).join(', ');

function isAnswered(entry: ApexSnapshot | UnansweredEndpoint): entry is ApexSnapshot {
  return !('error' in entry);
}

function keysOf(adoption: Adoption, signerId: string): SigningKey[] {
  return adoption.state.signers[signerId]?.keys ?? [];
}

function dnskeyLine(zone: string, ttl: number, key: DnskeyData, type = 'DNSKEY'): string {
  return `${zone} ${ttl} IN ${type} ${formatRdata({ type: 'DNSKEY', data: key })}`;
}

function dsLine(zone: string, ttl: number, ds: DsData, type = 'DS'): string {
  return `${zone} ${ttl} IN ${type} ${formatRdata({ type: 'DS', data: ds })}`;
}

/** A DS names a key: same digest, or (a digest type Chorus does not compute) same tag and algorithm. */
function dsNamesKey(zone: string, ds: DsData, key: DnskeyData): boolean {
  if (isSupportedDigestType(ds.digestType)) return dsMatchesKey(zone, ds, key);
  return ds.algorithm === key.algorithm && ds.keyTag === keyTag(key);
}

/** The NS names of the group: the union of the members' registered names. */
function groupNameServers(adoption: Adoption): string[] {
  return nameServersOf(adoption.state, adoption.members).map(absolute);
}

/** Names to add and remove for `served` to equal `expected`, as records; null when equal. */
function nsRepair(zone: string, ttl: number, expected: string[], served: string[]): string | null {
  const add = expected.filter((name) => !served.includes(name));
  const remove = served.filter((name) => !expected.includes(name));
  if (add.length === 0 && remove.length === 0) return null;
  const nsLines = (names: string[]) => quoted(names.map((name) => `${zone} ${ttl} IN NS ${name}`));
  return [
    ...(add.length > 0 ? [`add ${nsLines(add)}`] : []),
    ...(remove.length > 0 ? [`remove ${nsLines(remove)}`] : []),
  ].join('; ');
}

// ---------------------------------------------------------------------------------------------
// (a) every endpoint of every signer answers for the zone

const endpointsAnswer: Rule = ({ state, zone, members, observed }) =>
  members.flatMap((id) => {
    const signer = state.signers[id];
    if (!signer)
      return [
        finding(
          'signer-unregistered',
          `${id} is not registered for ${zone}: start its sidecar first (it registers its NS names, addresses and keys)`,
        ),
      ];
    if (signer.endpoints.length === 0)
      return [
        finding(
          'endpoint-unanswered',
          `${id} registered no address for ${zone}: give its sidecar the addresses its NS names resolve to`,
        ),
      ];
    const seen = observed.servers[id] ?? [];
    return signer.endpoints.flatMap((endpoint) => {
      const server = describeServer(endpoint);
      const entry = seen.find((candidate) => candidate.server === server);
      const why = !entry
        ? 'it was not asked'
        : !isAnswered(entry)
          ? entry.error
          : entry.soa
            ? undefined
            : 'it serves no SOA there';
      if (why === undefined) return [];
      return [
        finding(
          'endpoint-unanswered',
          `${id} at ${server} does not answer for ${zone} authoritatively (${why}): every address a signer registered must serve the zone; fix the server at that address, or the addresses in ${id}'s sidecar configuration`,
        ),
      ];
    });
  });

// ---------------------------------------------------------------------------------------------
// (b) every DNSKEY RRset holds every member's ZSKs and CSKs, and the signer's own KSKs

/** A member whose sidecar has listed no keys yet: its keys cannot be looked for. */
const memberKeysKnown: Rule = (adoption) =>
  adoption.members
    .filter((id) => adoption.state.signers[id] && keysOf(adoption, id).length === 0)
    .map((id) =>
      finding(
        'keys-unknown',
        `${id}'s sidecar has recorded no keys of ${adoption.zone} yet (signer-keys-observed): wait until its key watch has read its server's keys, then define again`,
      ),
    );

/** The keys `signerId`'s DNSKEY RRset must hold, each with the member that owns it. */
function expectedDnskeys(adoption: Adoption, signerId: string) {
  const own = keysOf(adoption, signerId)
    .filter((key) => key.role === 'KSK')
    .map((key) => ({ owner: signerId, key }));
  const signing = adoption.members.flatMap((owner) =>
    keysOf(adoption, owner)
      .filter((key) => key.role !== 'KSK')
      .map((key) => ({ owner, key })),
  );
  return [...own, ...signing];
}

function missingDnskey(
  adoption: Adoption,
  signerId: string,
  apex: ApexSnapshot,
  { owner, key }: { owner: string; key: SigningKey },
): AdoptionFinding {
  const ttl = apex.dnskey?.ttl ?? adoption.state.recordTtlSeconds;
  const record = `"${dnskeyLine(adoption.zone, ttl, key.dnskey)}"`;
  const where = `${signerId} at ${apex.server}`;
  if (owner === signerId)
    return finding(
      'dnskey-missing',
      `${where} does not serve its own ${key.role} ${key.keyTag} (${record}), which its server lists: that address serves an older copy of ${adoption.zone}; let it catch up (zone transfer, reload), then define again`,
    );
  return finding(
    'dnskey-missing',
    `${where} does not serve the ${key.role} ${key.keyTag} of ${owner}: publish ${record} in ${signerId}'s copy of ${adoption.zone}, so that resolvers can validate ${owner}'s signatures with the DNSKEY RRset they get from ${signerId}`,
  );
}

const dnskeysComplete: Rule = (adoption) =>
  adoption.answered.flatMap(({ signerId, apex }) => {
    const served = new Set((apex.dnskey?.records ?? []).map(dnskeyIdentity));
    return expectedDnskeys(adoption, signerId)
      .filter(({ key }) => !served.has(dnskeyIdentity(key.dnskey)))
      .map((expected) => missingDnskey(adoption, signerId, apex, expected));
  });

// ---------------------------------------------------------------------------------------------
// (c) every apex NS set is the union of the members' NS names

const apexNsIsUnion: Rule = (adoption) => {
  const expected = groupNameServers(adoption);
  return adoption.answered.flatMap(({ signerId, apex }) => {
    const served = [...new Set((apex.ns?.records ?? []).map(absolute))].sort();
    const ttl = apex.ns?.ttl ?? adoption.state.recordTtlSeconds;
    const repair = nsRepair(adoption.zone, ttl, expected, served);
    if (!repair) return [];
    return [
      finding(
        'apex-ns-mismatch',
        `${signerId} at ${apex.server} serves NS ${listed(served)} at the apex of ${adoption.zone}, but the group's NS set is ${listed(expected)} (the names its members registered): in ${signerId}'s copy, ${repair}`,
      ),
    ];
  });
};

// ---------------------------------------------------------------------------------------------
// (d) the parent's DS authenticates every member's KSK/CSK, and names no other key

const parentObserved: Rule = ({ zone, observed }) =>
  'error' in observed.delegation
    ? [
        finding(
          'parent-unobserved',
          `the delegation of ${zone} could not be read at the parent: ${observed.delegation.error}; check --parent-server (every address of every parent nameserver)`,
        ),
      ]
    : [];

function parentServersText(delegation: Delegation): string {
  return delegation.servers.map((view) => view.server).join(', ');
}

const parentDsForEveryMember: Rule = (adoption) => {
  const { delegation, zone } = adoption;
  if (!delegation) return [];
  const served = delegation.ds?.records ?? [];
  const ttl = delegation.ds?.ttl ?? adoption.state.recordTtlSeconds;
  return adoption.members.flatMap((owner) =>
    cdsKeysOf(keysOf(adoption, owner))
      .filter((key) => !served.some((ds) => dsNamesKey(zone, ds, key.dnskey)))
      .map((key) =>
        finding(
          'ds-missing',
          `the parent (${parentServersText(delegation)}) holds no DS for the ${key.role} ${key.keyTag} of ${owner}, so resolvers that ask ${owner} cannot validate its DNSKEY RRset: add ${quoted(cdsOfKey(zone, key).map((ds) => dsLine(zone, ttl, ds)))} at the parent (a registrar that takes keys: "${dnskeyLine(zone, ttl, key.dnskey)}")`,
        ),
      ),
  );
};

/** Whose key a DS names among the signers that are not in the group, in words. */
function outsiderOf(adoption: Adoption, ds: DsData): string {
  for (const [id, signer] of Object.entries(adoption.state.signers)) {
    if (adoption.members.includes(id)) continue;
    const key = signer.keys.find((candidate) => dsNamesKey(adoption.zone, ds, candidate.dnskey));
    if (key) return `; it names the ${key.role} ${key.keyTag} of ${id}, which is not in the group`;
  }
  return '';
}

const parentDsOnlyForMembers: Rule = (adoption) => {
  const { delegation, zone } = adoption;
  if (!delegation) return [];
  const ttl = delegation.ds?.ttl ?? adoption.state.recordTtlSeconds;
  const memberKeys = adoption.members.flatMap((id) => keysOf(adoption, id));
  return (delegation.ds?.records ?? [])
    .filter((ds) => !memberKeys.some((key) => dsNamesKey(zone, ds, key.dnskey)))
    .map((ds) =>
      finding(
        'ds-unknown',
        `the parent (${parentServersText(delegation)}) holds "${dsLine(zone, ttl, ds)}", which matches no key of ${listed([...adoption.members])}${outsiderOf(adoption, ds)}: remove it at the parent, or define the zone with the signer whose key it names`,
      ),
    );
};

// ---------------------------------------------------------------------------------------------
// (e) the parent's NS set is the union of the members' names, and every parent server agrees

const parentNsIsUnion: Rule = (adoption) => {
  const { delegation } = adoption;
  if (!delegation) return [];
  const expected = groupNameServers(adoption);
  const served = [...new Set((delegation.ns?.records ?? []).map(absolute))].sort();
  const ttl = delegation.ns?.ttl ?? adoption.state.recordTtlSeconds;
  const repair = nsRepair(adoption.zone, ttl, expected, served);
  if (!repair) return [];
  return [
    finding(
      'parent-ns-mismatch',
      `the parent (${parentServersText(delegation)}) delegates ${adoption.zone} to NS ${listed(served)}, but the group's NS set is ${listed(expected)}: at the parent, ${repair}`,
    ),
  ];
};

function viewText(view: Delegation['servers'][number]): string {
  const ds = (view.ds?.records ?? []).map(dsIdentity);
  const ns = (view.ns?.records ?? []).map(absolute);
  return `DS ${listed(ds)}; NS ${listed(ns)}`;
}

const parentServersAgree: Rule = ({ delegation, zone }) => {
  if (!delegation || delegation.consistent) return [];
  const first = delegation.servers[0];
  return delegation.servers
    .filter((view) => !view.consistent)
    .map((view) =>
      finding(
        'parent-inconsistent',
        `parent server ${view.server} serves ${viewText(view)} (or other glue) for ${zone}, unlike ${first?.server ?? 'the first'} (${first ? viewText(first) : '?'}): wait until every parent server serves the same delegation, then define again`,
      ),
    );
};

/** Glue at the parent for a member's NS name must point at that member's registered addresses. */
const glueAtMembers: Rule = (adoption) => {
  const { delegation, state } = adoption;
  if (!delegation) return [];
  return delegation.glue.flatMap((glue) => {
    const name = absolute(glue.name);
    const owner = adoption.members.find((id) =>
      (state.signers[id]?.nameServerNames ?? []).some((candidate) => absolute(candidate) === name),
    );
    if (!owner) return [];
    const addresses = (state.signers[owner]?.endpoints ?? []).map((endpoint) => endpoint.address);
    const stray = glue.addresses.filter((address) => !addresses.includes(address));
    if (stray.length === 0) return [];
    return [
      finding(
        'ns-address-mismatch',
        `the parent gives ${name}, an NS name of ${owner}, the address(es) ${listed(stray)}, where ${owner} does not answer (it registered ${listed(addresses)}): correct the glue at the parent, or the addresses in ${owner}'s sidecar configuration`,
      ),
    ];
  });
};

// ---------------------------------------------------------------------------------------------
// (f) CDS and CDNSKEY, where published, match the parent's DS at every endpoint

const SCANNER =
  'a parent that scans them (RFC 7344, RFC 8078) would replace the DS under Chorus: publish CDS and CDNSKEY for exactly the keys the parent holds DS for at every signer, or none';

const cdsMatchesParent: Rule = (adoption) => {
  const { delegation, zone } = adoption;
  if (!delegation) return [];
  const parentDs = delegation.ds?.records ?? [];
  const parentIds = new Set(parentDs.map(dsIdentity));
  return adoption.answered.flatMap(({ signerId, apex }) => {
    const cds = apex.cds?.records ?? [];
    if (cds.length === 0) return [];
    const ttl = apex.cds?.ttl ?? adoption.state.recordTtlSeconds;
    const cdsIds = new Set(cds.map(dsIdentity));
    const extra = cds.filter((record) => !parentIds.has(dsIdentity(record)));
    const lacking = parentDs.filter((ds) => !cdsIds.has(dsIdentity(ds)));
    if (extra.length === 0 && lacking.length === 0) return [];
    const parts = [
      ...(extra.length > 0
        ? [`${quoted(extra.map((ds) => dsLine(zone, ttl, ds, 'CDS')))} has no DS at the parent`]
        : []),
      ...(lacking.length > 0
        ? [`the parent's ${quoted(lacking.map((ds) => dsLine(zone, ttl, ds)))} has no CDS there`]
        : []),
    ];
    return [
      finding(
        'cds-mismatch',
        `${signerId} at ${apex.server} publishes CDS that differ from the parent's DS (${parts.join('; ')}); ${SCANNER}`,
      ),
    ];
  });
};

const cdnskeyMatchesParent: Rule = (adoption) => {
  const { delegation, zone } = adoption;
  if (!delegation) return [];
  const parentDs = delegation.ds?.records ?? [];
  return adoption.answered.flatMap(({ signerId, apex }) => {
    const keys = apex.cdnskey?.records ?? [];
    if (keys.length === 0) return [];
    const ttl = apex.cdnskey?.ttl ?? adoption.state.recordTtlSeconds;
    const extra = keys.filter((key) => !parentDs.some((ds) => dsNamesKey(zone, ds, key)));
    const lacking = parentDs.filter((ds) => !keys.some((key) => dsNamesKey(zone, ds, key)));
    if (extra.length === 0 && lacking.length === 0) return [];
    const parts = [
      ...(extra.length > 0
        ? [
            `${quoted(extra.map((key) => dnskeyLine(zone, ttl, key, 'CDNSKEY')))} has no DS at the parent`,
          ]
        : []),
      ...(lacking.length > 0
        ? [
            `the parent's ${quoted(lacking.map((ds) => dsLine(zone, ttl, ds)))} has no CDNSKEY there`,
          ]
        : []),
    ];
    return [
      finding(
        'cdnskey-mismatch',
        `${signerId} at ${apex.server} publishes CDNSKEY that differ from the parent's DS (${parts.join('; ')}); ${SCANNER}`,
      ),
    ];
  });
};

// ---------------------------------------------------------------------------------------------
// (g) the zone content is the same at every member (by the digests their sidecars recorded)

const contentAgrees: Rule = (adoption) => {
  const { state } = adoption;
  const withDigest = adoption.members.filter((id) => state.signers[id]?.content !== undefined);
  if (withDigest.length < 2) return [];
  // Digests only: a walked content is never needed, so each observation holds none.
  const observations: Record<string, SignerObservation> = Object.fromEntries(
    withDigest.map((id) => [
      id,
      { keys: keysOf(adoption, id), apex: [], denial: { method: 'unknown' } },
    ]),
  );
  return contentChecks(state, observations, withDigest, withDigest[0]!).map((reason) =>
    finding(
      reason.code,
      `${reason.message}: make the content identical at every signer (RFC 8901 §5), then define again`,
    ),
  );
};

/** The rules, in the order their findings are listed. */
const RULES: readonly Rule[] = [
  endpointsAnswer,
  memberKeysKnown,
  dnskeysComplete,
  apexNsIsUnion,
  parentObserved,
  parentDsForEveryMember,
  parentDsOnlyForMembers,
  parentNsIsUnion,
  parentServersAgree,
  glueAtMembers,
  cdsMatchesParent,
  cdnskeyMatchesParent,
  contentAgrees,
];

/**
 * Why the group `signerIds` is not consistent in model 2 as observed (empty when it is): every
 * address answers; every DNSKEY RRset holds every member's ZSKs/CSKs and the server's own KSKs;
 * every apex NS set and the parent's NS set are the union of the members' NS names, and glue
 * points at their owners; the parent's DS names every member's KSK/CSK and nothing else, at every
 * parent server alike; CDS/CDNSKEY, where published, match the parent's DS; recorded content
 * digests agree.
 */
export function adoptionFindings(
  state: ZoneState,
  signerIds: readonly string[],
  observed: AdoptionObservations,
): AdoptionFinding[] {
  const answered = signerIds.flatMap((signerId) =>
    (observed.servers[signerId] ?? []).filter(isAnswered).map((apex) => ({ signerId, apex })),
  );
  const adoption: Adoption = {
    state,
    zone: absolute(state.zone),
    members: signerIds,
    answered,
    delegation: 'error' in observed.delegation ? undefined : observed.delegation,
    observed,
  };
  return RULES.flatMap((rule) => rule(adoption));
}

/**
 * What `zone-defined` records of a consistent group: when it was observed, the parent servers
 * asked, and which NS names belong to which signer (its registered names the parent delegates to).
 */
export function adoptionRecord(
  state: ZoneState,
  signerIds: readonly string[],
  delegation: Delegation,
): ZoneAdoption {
  const delegated = new Set((delegation.ns?.records ?? []).map(absolute));
  const nameServers = Object.fromEntries(
    signerIds.map((id) => [
      id,
      [...new Set((state.signers[id]?.nameServerNames ?? []).map(absolute))]
        .filter((name) => delegated.has(name))
        .sort(),
    ]),
  );
  return {
    observedAt: delegation.observedAt,
    parentServers: delegation.servers.map((view) => view.server),
    nameServers,
  };
}
