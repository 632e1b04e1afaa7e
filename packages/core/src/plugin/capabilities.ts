/** Whether a plugin can do something. Unlisted capabilities count as `cannot`. */
export type CapabilityStatus = 'can' | 'cannot' | 'unimplemented';

/** A capability with the reason for its status, and optionally where to read more. */
export interface CapabilityNote {
  status: CapabilityStatus;
  reason: string;
  link?: string;
  /** For `concurrent-changes`: how many zones' changes the server takes at once. */
  limit?: number;
}

export function can(reason: string, link?: string): CapabilityNote {
  return link === undefined ? { status: 'can', reason } : { status: 'can', reason, link };
}

/**
 * `concurrent-changes`: the server takes changes for `limit` zones at once (the sidecar never
 * runs more), with the reason for that number.
 */
export function canAtOnce(limit: number, reason: string): CapabilityNote {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`a concurrency limit is a positive integer, not ${limit}`);
  return { status: 'can', reason, limit };
}

export function cannot(reason: string, link?: string): CapabilityNote {
  return link === undefined ? { status: 'cannot', reason } : { status: 'cannot', reason, link };
}

export function unimplemented(reason: string, link?: string): CapabilityNote {
  return link === undefined
    ? { status: 'unimplemented', reason }
    : { status: 'unimplemented', reason, link };
}

/**
 * What a signer can do. Keep this list sorted; each entry needs a conformance group that proves it.
 */
export const SIGNER_CAPABILITIES = [
  /** Roll the group to a new algorithm (standards §7.6): every signer must declare it. */
  'algorithm-roll',
  /** Change the apex NS RRset (join and leave publish the group's NS set). */
  'apex-ns-manage',
  /** Publish RFC 9615 signalling records (`_dsboot.<zone>._signal.<ns>`) in the operator's signalling zone. */
  'bootstrap-signal',
  /** Publish CDS and CDNSKEY records for other signers' KSKs (RFC 8901 §8, automation draft §4.3 item 3). */
  'cds-import-foreign',
  /**
   * Apply changes to several zones at once; the note's `limit` says how many. The sidecar runs
   * at most that many applies and roll actions at a time (one when undeclared).
   */
  'concurrent-changes',
  /**
   * Read the zone's whole content from its own server (AXFR, control channel or API): the
   * sidecar records a digest of it, so the pre-flight compares content under NSEC3 too.
   */
  'content-read',
  /** Publish and withdraw a CSYNC record (RFC 7477). */
  'csync-publish',
  /** Publish other signers' DNSKEYs in this signer's DNSKEY RRset (RFC 8901 model 2). */
  'dnskey-import-foreign',
  /** Hold a new key published but not signing until Chorus activates it (KeyRoller `held` mode). */
  'key-hold-published',
  /** List this signer's own keys with role, algorithm, key tag and state. */
  'key-list',
  /** Start a roll of its own ZSK or KSK on request (`Signer.keyRoller`). */
  'key-roll',
  /** The server publishes CDS/CDNSKEY for its own KSK by itself; Chorus mirrors them, never injects them. */
  'own-cds-publish',
  /**
   * Serve a DNSKEY RRset with an RRSIG made elsewhere, by the zone owner's KSK (RFC 8901 model 1),
   * signing only the rest of the zone with its own ZSK.
   */
  'presigned-dnskey',
] as const;

export type SignerCapability = (typeof SIGNER_CAPABILITIES)[number];

export type SignerCapabilities = Readonly<Partial<Record<SignerCapability, CapabilityNote>>>;

/** How many zones' changes the signer's server takes at once: its declared limit, else 1. */
export function concurrentChangeLimit(capabilities: SignerCapabilities): number {
  const note = capabilities['concurrent-changes'];
  return note?.status === 'can' && note.limit !== undefined ? note.limit : 1;
}

/** The status of a capability; unlisted means `cannot`. */
export function capabilityStatus(
  capabilities: SignerCapabilities,
  capability: SignerCapability,
): CapabilityStatus {
  return capabilities[capability]?.status ?? 'cannot';
}

/** A markdown table of a plugin's capabilities, for its README (kept in sync by a test). */
export function capabilityTable(capabilities: SignerCapabilities): string {
  const rows = SIGNER_CAPABILITIES.map((capability) => {
    const note = capabilities[capability];
    const status = note?.status ?? 'cannot';
    const limit = note?.limit !== undefined ? ` (${note.limit} at once)` : '';
    const mark =
      status === 'can'
        ? `✅ can${limit}`
        : status === 'unimplemented'
          ? '🚧 unimplemented'
          : '❌ cannot';
    const reason = note
      ? note.reason + (note.link ? ` ([link](${note.link}))` : '')
      : 'not declared';
    return `| \`${capability}\` | ${mark} | ${reason.replace(/\|/g, '\\|')} |`;
  });
  return ['| capability | status | reason |', '| --- | --- | --- |', ...rows].join('\n');
}
