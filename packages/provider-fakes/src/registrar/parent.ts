/**
 * The registrar's side of the lab parent: it reads a delegation from the parent's servers (DNS,
 * the observe-only channel's `observeDelegation`), writes it with one RFC 2136 UPDATE built by
 * the registry's `buildParentUpdate` and signed with the parent's TSIG key, and then waits until
 * every parent server serves the new set. A refused or failed UPDATE changes nothing (an UPDATE
 * is atomic); its prerequisites pin the DS and NS sets it was built against.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { buildParentUpdate, observeDelegation, type ParentUpdateDecision } from '@chorus/parent';
import { dsIdentity, readTsigKeyFile, sendUpdate } from '@chorus/dns';
import type { Delegation, DelegationGlue, DsData, NameServer } from '@chorus/core';
import {
  canonicalAddress,
  isInDomain,
  shownName,
  type GlueEntry,
  type NameserversRequest,
} from './validation.js';

/** A delegation as the API shows it (`GET /v1/domains/{domain}`). */
export interface DomainView {
  domain: string;
  nameservers: string[];
  glue: { name: string; addresses: string[] }[];
  ds: DsData[];
}

export interface RegistrarParentOptions {
  zone: string;
  servers: NameServer[];
  tsigKeyFile: string;
  /** TTL of new records when the parent has none to keep. */
  ttl: number;
  dnsTimeoutMs: number;
  propagationTimeoutMs: number;
}

/** The parent's primary took the UPDATE, but not every server serves the change in time. */
export class NotYetServedError extends Error {
  constructor(domain: string, timeoutMs: number) {
    super(
      `the parent took the change for ${shownName(domain)} but not every parent server serves it after ${timeoutMs} ms`,
    );
    this.name = 'NotYetServedError';
  }
}

const POLL_MS = 100;

/** The glue of names inside `domain`, canonical, sorted by name. */
function inDomainGlue(glue: readonly DelegationGlue[], domain: string): GlueEntry[] {
  return glue
    .filter((entry) => isInDomain(entry.name.toLowerCase(), domain))
    .map((entry) => ({
      name: entry.name.toLowerCase(),
      addresses: entry.addresses.map((address) => canonicalAddress(address) ?? address).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function dsKey(records: readonly DsData[]): string {
  return JSON.stringify(records.map(dsIdentity).sort());
}

function nsKey(names: readonly string[]): string {
  return JSON.stringify(names.map((name) => name.toLowerCase()).sort());
}

/** Whether every parent server serves exactly `ds`. */
function servesDs(delegation: Delegation, ds: readonly DsData[]): boolean {
  const wanted = dsKey(ds);
  return delegation.servers.every((view) => dsKey(view.ds?.records ?? []) === wanted);
}

/** Whether every parent server serves exactly these nameservers and in-domain glue. */
function servesNameservers(
  delegation: Delegation,
  domain: string,
  wanted: NameserversRequest,
): boolean {
  const glue = JSON.stringify(wanted.glue);
  return delegation.servers.every(
    (view) =>
      nsKey(view.ns?.records ?? []) === nsKey(wanted.nameservers) &&
      JSON.stringify(inDomainGlue(view.glue, domain)) === glue,
  );
}

/** The scanner-shaped decision that `buildParentUpdate` turns into an UPDATE. */
function decision(
  domain: string,
  ds: ParentUpdateDecision['ds'],
  ns: ParentUpdateDecision['ns'],
): ParentUpdateDecision {
  return { zone: domain, observedAt: new Date().toISOString(), ds, ns, servers: [] };
}

/** The other RRset of a one-RRset change: left as it is. */
function noChange(): { action: 'none'; status: 'in-sync'; reasons: [] } {
  return { action: 'none', status: 'in-sync', reasons: [] };
}

/** What the API needs of the parent (RegistrarParent; a stand-in in unit tests). */
export interface ParentAccess {
  observe(domain: string): Promise<Delegation>;
  view(delegation: Delegation, domain: string): DomainView;
  replaceDs(domain: string, ds: DsData[]): Promise<Delegation>;
  replaceNameservers(domain: string, wanted: NameserversRequest): Promise<Delegation>;
}

export class RegistrarParent implements ParentAccess {
  readonly #options: RegistrarParentOptions;

  constructor(options: RegistrarParentOptions) {
    this.#options = options;
  }

  /** The delegation of `domain` at every parent server (throws the channel's typed errors). */
  observe(domain: string): Promise<Delegation> {
    return observeDelegation(this.#options.zone, this.#options.servers, domain, {
      timeoutMs: this.#options.dnsTimeoutMs,
      retries: 1,
    });
  }

  /** The API's view of an observed delegation (the first parent server's). */
  view(delegation: Delegation, domain: string): DomainView {
    return {
      domain: shownName(domain),
      nameservers: (delegation.ns?.records ?? [])
        .map((name) => shownName(name.toLowerCase()))
        .sort(),
      glue: inDomainGlue(delegation.glue, domain).map((entry) => ({
        name: shownName(entry.name),
        addresses: entry.addresses,
      })),
      ds: (delegation.ds?.records ?? []).map((ds) => ({ ...ds, digest: ds.digest.toUpperCase() })),
    };
  }

  /** Replaces the DS set (empty: unsigned delegation); resolves once every server serves it. */
  async replaceDs(domain: string, ds: DsData[]): Promise<Delegation> {
    const current = await this.observe(domain);
    if (servesDs(current, ds)) return current;
    const change: ParentUpdateDecision['ds'] =
      ds.length === 0
        ? { action: 'delete', status: 'change', reasons: [] }
        : { action: 'replace', status: 'change', records: ds, reasons: [] };
    await this.#update(decision(domain, change, noChange()), current);
    return this.#waitUntil(domain, (delegation) => servesDs(delegation, ds));
  }

  /** Replaces the NS set and its in-domain glue; resolves once every server serves them. */
  async replaceNameservers(domain: string, wanted: NameserversRequest): Promise<Delegation> {
    const current = await this.observe(domain);
    if (servesNameservers(current, domain, wanted)) return current;
    const change: ParentUpdateDecision['ns'] = {
      action: 'replace',
      status: 'change',
      records: [...wanted.nameservers].sort(),
      glue: wanted.glue,
      reasons: [],
    };
    await this.#update(decision(domain, noChange(), change), current);
    return this.#waitUntil(domain, (delegation) => servesNameservers(delegation, domain, wanted));
  }

  /** One UPDATE to the primary (the first server), signed with the parent's key. */
  async #update(change: ParentUpdateDecision, current: Delegation): Promise<void> {
    const update = buildParentUpdate({
      parentZone: this.#options.zone,
      decision: change,
      delegation: current,
      ttl: this.#options.ttl,
    });
    if (update === null) return;
    const tsig = await readTsigKeyFile(this.#options.tsigKeyFile);
    await sendUpdate(this.#options.servers[0]!, update, {
      tsig,
      timeoutMs: this.#options.dnsTimeoutMs,
    });
  }

  async #waitUntil(domain: string, served: (delegation: Delegation) => boolean) {
    const deadline = Date.now() + this.#options.propagationTimeoutMs;
    for (;;) {
      const delegation = await this.observe(domain);
      if (served(delegation)) return delegation;
      if (Date.now() >= deadline)
        throw new NotYetServedError(domain, this.#options.propagationTimeoutMs);
      await sleep(POLL_MS);
    }
  }
}
