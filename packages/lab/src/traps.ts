/**
 * The trap servers (`up --traps`): signers with one setting that is wrong for multi-signer
 * model 2 (reference/nameservers.md §2.2, §3.2, §4.2, §4.3). Each runs like a normal signer —
 * own address, directory, keys, control endpoint and TSIG key, serving every lab zone signed —
 * so a sidecar or plugin can be shown to notice the misconfiguration instead of failing silently.
 * No parent zone delegates to them.
 *
 * The per-server settings below are the only place where a trap differs from its normal signer.
 */
import type { LabServer, ServerId, TrapDescription, TrapId } from './types.js';

export interface TrapSpec extends TrapDescription {
  id: TrapId;
  software: LabServer['software'];
}

export const TRAPS: Readonly<Record<TrapId, TrapSpec>> = {
  'bind-inline-signing': {
    id: 'bind-inline-signing',
    software: 'bind',
    setting: 'inline-signing yes',
    problem:
      'BIND 9.18 cannot take foreign DNSKEYs into an inline-signing zone: a DNS UPDATE adding a DNSKEY fails with SERVFAIL, and DNSKEYs in the unsigned zone file are silently dropped',
  },
  'powerdns-no-direct-dnskey': {
    id: 'powerdns-no-direct-dnskey',
    software: 'powerdns',
    setting: 'direct-dnskey=no',
    problem:
      'DNSKEY records added by the API, DNS UPDATE or pdnsutil are accepted and stored but never served: only PowerDNS’s own keys are published',
  },
  'knot-full-management': {
    id: 'knot-full-management',
    software: 'knot',
    setting: 'dnskey-management: full',
    problem:
      'foreign DNSKEY, CDS and CDNSKEY records sent by DNS UPDATE are answered NOERROR and silently dropped (full is the default)',
  },
  'knot-zonefile-revert': {
    id: 'knot-zonefile-revert',
    software: 'knot',
    setting: 'zonefile-sync: -1',
    problem:
      'with zonefile-load: difference-no-serial and the zone file never written back, a restart re-applies the zone file: DNSKEYs added by DNS UPDATE disappear and deleted ones come back',
  },
};

export function isTrap(id: ServerId): id is TrapId {
  return Object.hasOwn(TRAPS, id);
}

/** The trap's description for the status (without the id and software it repeats). */
export function trapDescription(id: TrapId): TrapDescription {
  const { setting, problem } = TRAPS[id];
  return { setting, problem };
}

/** BIND: the normal signer uses a dynamic zone without inline-signing. */
export function bindSettings(id: ServerId): { inlineSigning: boolean } {
  return { inlineSigning: id === 'bind-inline-signing' };
}

/** PowerDNS: the normal signer serves backend DNSKEY records next to its own. */
export function powerDnsSettings(id: ServerId): { directDnskey: boolean } {
  return { directDnskey: id !== 'powerdns-no-direct-dnskey' };
}

/** Knot: the normal signer keeps foreign keys and writes DDNS changes back to the zone file. */
export function knotSettings(id: ServerId): {
  dnskeyManagement: 'incremental' | 'full';
  zonefileSync: 0 | -1;
} {
  return {
    dnskeyManagement: id === 'knot-full-management' ? 'full' : 'incremental',
    zonefileSync: id === 'knot-zonefile-revert' ? -1 : 0,
  };
}
