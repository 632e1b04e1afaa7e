import type { DesiredRecipe, ProcessKind, RolloverTiming, StepDefinition } from '@chorus/core';

/**
 * RFC 8901 model 2 processes as data, after draft-ietf-dnsop-dnssec-automation §5.3/§5.4 and the
 * reference algorithms in standards §7.1 and §7.2. Each step: a pre-condition checked on the wire
 * (besides the previous step being done), an action (a desired state per participant), a
 * post-condition observed on the wire, and the wait that must follow it.
 *
 * Group selectors: `before` = the group before the process, `after` = after it, `union` = both.
 * ADD-SIGNER(N): before = G, after = union = G ∪ {N}. REMOVE-SIGNER(L): before = union = G, after = R.
 */

const recipe = (value: DesiredRecipe): DesiredRecipe => value;

/** ADD-SIGNER, model 2 (standards §7.1). CDS/CDNSKEY stay published after the join: CDS = DS is a steady state the parent ignores. */
export const ADD_SIGNER_STEPS: readonly StepDefinition[] = [
  {
    name: 'sync-dnskeys',
    description:
      "Every signer, the joining one included, publishes every other signer's keys (§7.1 step 2). Pre: C0 holds, the joiner meets the prerequisites. Post: every IP of every signer serves them. Safe: nobody reaches the joiner yet.",
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'before',
      csync: false,
      apexNs: 'unchanged',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'publish-cds',
    description:
      'Every signer publishes the identical CDS/CDNSKEY pair for all KSKs of the new group (§7.1 step 3). Post: every delegated IP serves it, so the parent sees one consistent request.',
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'unchanged',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent to publish DS for every KSK of the new group (§7.1 step 4; unbounded). Then wait max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S (step 6) before the joiner's NS can appear.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'union' },
    wait: 'ds-and-dnskey',
  },
  {
    name: 'sync-ns',
    precondition: { kind: 'parent-ds-matches', group: 'union' },
    description:
      "Every signer serves the union NS set, the joiner's names included (§7.1 step 7). From here resolvers may reach the joiner; the steps before made that safe.",
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'union',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'publish-csync',
    description:
      'Every signer publishes CSYNC 0 1 A NS AAAA so the parent copies the NS set (§7.1 step 8).',
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: true,
      apexNs: 'union',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ns',
    description:
      'Wait for the parent to delegate to the union NS set (§7.1 step 9), then max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S (step 11) before any dependent operation.',
    action: null,
    postcondition: { kind: 'parent-ns-matches', group: 'union' },
    wait: 'ns',
  },
  {
    name: 'remove-csync',
    description: 'Every signer withdraws the CSYNC (§7.1 step 10).',
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'union',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
];

/**
 * REMOVE-SIGNER, model 2 (standards §7.2). The leaving signer L cooperates: it takes part in the
 * NS and CSYNC steps (it is still delegated, so the parent asks it too) and keeps every key
 * until it is unreachable.
 */
export const REMOVE_SIGNER_STEPS: readonly StepDefinition[] = [
  {
    name: 'sync-ns',
    description:
      "Every signer, the leaving one included, serves the NS set without the leaving signer's names (§7.2 step 2). Pre: C0 holds and at least one signer remains.",
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'publish-csync',
    description: 'Every still-delegated signer publishes CSYNC 0 1 A NS AAAA (§7.2 step 3).',
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: true,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ns',
    description:
      'Wait for the parent to drop the leaving NS (§7.2 step 4), then NS-Wait-Time: max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S (step 6).',
    action: null,
    postcondition: { kind: 'parent-ns-matches', group: 'after' },
    wait: 'ns',
  },
  {
    name: 'remove-csync',
    description: 'Every signer withdraws the CSYNC (§7.2 step 5).',
    action: recipe({
      participants: 'union',
      keysFrom: 'union',
      cdsFor: 'union',
      csync: false,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'retire-leaving-signer',
    precondition: { kind: 'parent-ns-matches', group: 'after' },
    description:
      'The leaving signer is out of every NS set and every cache: it may stop serving (§7.2 step 7). Its signatures may still be cached, so wait t_stop + DprpC + TTLsig + S before its keys go (RFC 7583 Iret, the conservative reading of step 9).',
    action: null,
    postcondition: { kind: 'none' },
    wait: 'signatures',
  },
  {
    name: 'publish-cds',
    description: 'The remaining signers publish CDS/CDNSKEY for their own KSKs only (§7.2 step 8).',
    action: recipe({
      participants: 'after',
      keysFrom: 'union',
      cdsFor: 'after',
      csync: false,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'remove-leaving-keys',
    precondition: { kind: 'parent-ns-matches', group: 'after' },
    description: "The remaining signers drop the leaving signer's keys (§7.2 step 9).",
    action: recipe({
      participants: 'after',
      keysFrom: 'after',
      cdsFor: 'after',
      csync: false,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent to drop the leaving signer's DS (§7.2 step 10), then DS-Wait-Time t_ds + DprpP + TTLds + S before the next DS-dependent operation.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'after' },
    wait: 'ds',
  },
];

/** Every member publishes every member's keys, CDS unchanged: the recipe of a roll's sync steps. */
const SYNC_GROUP_KEYS = recipe({
  participants: 'union',
  keysFrom: 'union',
  cdsFor: 'union',
  csync: false,
  apexNs: 'unchanged',
});

/**
 * ZSK roll by one signer S, pre-publish (standards §7.3, draft §5.5). The roll subject (S's
 * predecessor ZSKs, and the mode) is fixed when the process starts. In a server-timed roll the
 * server activates and removes keys on its own schedule; the post-conditions observe it.
 */
export const ROLL_ZSK_STEPS: readonly StepDefinition[] = [
  {
    name: 'introduce-successor',
    description:
      "S introduces a successor ZSK in its own DNSKEY RRset, not yet signing (§7.3 step 1). Post: S's key watch lists it and every IP of S serves it.",
    action: null,
    rollAction: 'start-roll',
    postcondition: { kind: 'successor-published' },
    wait: null,
  },
  {
    name: 'sync-dnskeys',
    description:
      'Every other signer publishes the successor (§7.3 step 1). Post: every IP of every signer serves it. Then DNSKEY-Wait-Time t_pub + DprpC + TTLkey + S (step 2) before it may sign.',
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: 'dnskey',
  },
  {
    name: 'activate-successor',
    description:
      'S signs with the successor and stops signing with the predecessor (§7.3 step 3; server-timed: the server does it). Post: no RRSIG by the predecessor at any IP of S. Then t_sig + DprpC + TTLsig + S (step 4, RFC 7583 Iret).',
    action: null,
    rollAction: 'activate-successor',
    postcondition: { kind: 'predecessor-not-signing' },
    wait: 'signatures',
  },
  {
    name: 'remove-predecessor',
    description:
      'S removes the predecessor from its own DNSKEY RRset (§7.3 step 5; server-timed: the server does it). Post: S neither lists nor serves it.',
    action: null,
    rollAction: 'remove-predecessor',
    postcondition: { kind: 'predecessor-removed' },
    wait: null,
  },
  {
    name: 'drop-predecessor',
    description:
      'Every other signer drops the predecessor (§7.3 step 5). Post: it is gone everywhere.',
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
];

/**
 * KSK (or CSK) roll by one signer S, double-KSK with CDS (standards §7.4, draft §5.6). The
 * successor signs the DNSKEY RRset beside the predecessor from the start, so no activation step:
 * the parent's DS set carries both until the predecessor goes. Held mode; a server-timed signer
 * follows {@link ROLL_KSK_SERVER_TIMED_STEPS}.
 */
export const ROLL_KSK_STEPS: readonly StepDefinition[] = [
  {
    name: 'introduce-successor',
    description:
      "S adds the successor to its DNSKEY RRset and signs that RRset with the predecessor and the successor (§7.4 step 1). Post: S's key watch lists it and every IP of S serves it.",
    action: null,
    rollAction: 'start-roll',
    postcondition: { kind: 'successor-published' },
    wait: null,
  },
  {
    name: 'sync-dnskeys',
    description:
      "Every other signer publishes the successor, and every signer the one CDS/CDNSKEY set for all KSKs of the group, predecessor and successor included (§7.4 step 2; S's server publishes its own). Post: every IP of every signer serves it.",
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent's DS set to hold the successor beside the predecessor (§7.4 step 3; unbounded). Then max(t_ds + DprpP + TTLds, t_dnskey + DprpC + TTLkey) + S (step 4) before the predecessor may go.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'union' },
    wait: 'ds-and-dnskey',
  },
  {
    name: 'remove-predecessor',
    precondition: { kind: 'parent-ds-matches', group: 'union' },
    description:
      'S removes the predecessor and its signatures (§7.4 step 5). Post: S neither lists nor serves it.',
    action: null,
    rollAction: 'remove-predecessor',
    postcondition: { kind: 'predecessor-removed' },
    wait: null,
  },
  {
    name: 'drop-predecessor',
    description:
      'Every other signer drops the predecessor, and every CDS/CDNSKEY set loses it (§7.4 step 6). Post: every IP of every signer serves the new sets.',
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds-removed',
    description:
      "Wait for the parent to drop the predecessor's DS (§7.4 step 7), then DS-Wait-Time t_ds + DprpP + TTLds + S before the next DS-dependent operation.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'union' },
    wait: 'ds',
  },
];

/**
 * KSK (or CSK) roll at a signer whose server times it (BIND dnssec-policy, Knot): the server
 * introduces the successor, signs the DNSKEY RRset with both, and after its own pre-publication
 * interval moves its CDS/CDNSKEY to the successor. The other signers mirror that CDS set, the
 * parent follows, and Chorus tells the server once the DS change has reached every cache; the
 * server then retires the predecessor (standards §7.4 with the server's own DS signal).
 */
export const ROLL_KSK_SERVER_TIMED_STEPS: readonly StepDefinition[] = [
  {
    name: 'introduce-successor',
    description:
      "S's server adds the successor to its DNSKEY RRset and signs that RRset with both keys (§7.4 step 1). Post: S's key watch lists it and every IP of S serves it.",
    action: null,
    rollAction: 'start-roll',
    postcondition: { kind: 'successor-published' },
    wait: null,
  },
  {
    name: 'sync-dnskeys',
    description:
      'Every other signer publishes the successor; the CDS/CDNSKEY set stays as S serves it (§7.4 step 2). Post: every IP of every signer serves it. Then t_pub + DprpC + TTLkey + S, so that no cached DNSKEY RRset lacks the successor when the DS (or, for a CSK, zone data) comes to depend on it.',
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: 'dnskey',
  },
  {
    name: 'await-successor-cds',
    description:
      "S's server moves its CDS/CDNSKEY from the predecessor to the successor after its own pre-publication interval (unbounded). Post: every IP of S serves CDS for the successor and none for the predecessor.",
    action: null,
    postcondition: { kind: 'successor-cds-published' },
    wait: null,
  },
  {
    name: 'sync-cds',
    description:
      "Every other signer mirrors S's new CDS/CDNSKEY, so that the parent sees one set everywhere (§7.4 step 2). Post: every IP of every signer serves it.",
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent's DS set to hold the successor and not the predecessor (§7.4 step 3; unbounded). Then DS-Wait-Time t_ds + DprpP + TTLds + S, so that no cache holds the old DS set when the predecessor goes.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'union' },
    wait: 'ds',
  },
  {
    name: 'confirm-parent-ds',
    precondition: { kind: 'parent-ds-matches', group: 'union' },
    description:
      "S's sidecar tells its server that the successor's DS is published and the predecessor's withdrawn (BIND rndc dnssec -checkds, Knot zone-ksk-submitted).",
    action: null,
    rollAction: 'confirm-parent-ds',
    postcondition: { kind: 'none' },
    wait: null,
  },
  {
    name: 'remove-predecessor',
    description:
      "S's server removes the predecessor after its own retire interval (§7.4 step 5). Post: S neither lists nor serves it.",
    action: null,
    rollAction: 'remove-predecessor',
    postcondition: { kind: 'predecessor-removed' },
    wait: null,
  },
  {
    name: 'drop-predecessor',
    description:
      'Every other signer drops the predecessor (§7.4 step 6). Post: every IP of every signer serves the new sets.',
    action: SYNC_GROUP_KEYS,
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
];

/**
 * BOOTSTRAP (RFC 9615 with RFC 8901 model 2): a zone that is delegated to every signer but has
 * no DS becomes a signed group without a leap of faith. Resolvers treat the zone as insecure until
 * the DS appears, so the key sync is safe; the DS only comes once every provider signals the
 * same group-wide CDS/CDNSKEY under its own authenticated `_signal` names.
 */
export const BOOTSTRAP_STEPS: readonly StepDefinition[] = [
  {
    name: 'sync-dnskeys',
    description:
      "Every signer publishes every other signer's keys and the group's CDS/CDNSKEY, and serves the group's NS set. Pre: the parent holds no DS and delegates to the group. Safe: without a DS, validators treat the zone as insecure. Then wait until no cache holds a DNSKEY RRset without every signer's keys (t_dnskey + DprpC + TTLkey + S): every provider is reachable already, so a DS beside such a copy would fail.",
    action: recipe({
      participants: 'after',
      keysFrom: 'after',
      cdsFor: 'after',
      csync: false,
      apexNs: 'after',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: 'dnskey',
  },
  {
    name: 'publish-signals',
    description:
      "Every signer copies the group's CDS/CDNSKEY to `_dsboot.<zone>._signal.<ns>` for each of its NS names, in its signed signalling zone (RFC 9615 §3). Post: every signer serves them, identical to the apex.",
    action: recipe({
      participants: 'after',
      keysFrom: 'after',
      cdsFor: 'after',
      csync: false,
      apexNs: 'after',
      bootstrapSignals: 'publish',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent to authenticate the signals and publish DS for every signer's KSK (RFC 9615 §4; unbounded). Then wait until the DS and the DNSKEY set are in every cache.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'after' },
    wait: 'ds-and-dnskey',
  },
  {
    name: 'withdraw-signals',
    description:
      'Every signer removes its signalling records: a bootstrapped parent no longer reads them (RFC 9615 §4.1 allows their removal).',
    action: recipe({
      participants: 'after',
      keysFrom: 'after',
      cdsFor: 'after',
      csync: false,
      apexNs: 'after',
      bootstrapSignals: 'withdraw',
    }),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
];

/**
 * ZSK roll by one signer S in model 1 (standards §7.5 M1-ZSK): the owner signs every DNSKEY
 * RRset, so each key change at S reaches the wire when the owner has signed a set that follows
 * S's plan and every member has imported it. S holds its keys: nothing signs before the wait.
 */
export const ROLL_ZSK_MODEL1_STEPS: readonly StepDefinition[] = [
  {
    name: 'introduce-successor',
    description:
      "S plans a successor ZSK, published and not signing. Post: S's key watch lists it and every IP of S serves it in the owner's signed set (the owner signs when a member's plan changes).",
    action: null,
    rollAction: 'start-roll',
    postcondition: { kind: 'successor-published' },
    wait: null,
  },
  {
    name: 'push-owner-set',
    description:
      "Every member serves the owner's set with the successor (§7.5 M1-ZSK step 1, PUSH). Then DprpC + TTLkey + S (step 2) before it may sign.",
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: 'dnskey',
  },
  {
    name: 'activate-successor',
    description:
      'S signs with the successor and stops signing with the predecessor (step 3). Post: no RRSIG by the predecessor at any IP of S. Then t_sig + DprpC + TTLsig + S (step 4).',
    action: null,
    rollAction: 'activate-successor',
    postcondition: { kind: 'predecessor-not-signing' },
    wait: 'signatures',
  },
  {
    name: 'remove-predecessor',
    description:
      'S drops the predecessor from its plan, and the owner signs a set without it (step 5). Post: S neither lists nor serves it.',
    action: null,
    rollAction: 'remove-predecessor',
    postcondition: { kind: 'predecessor-removed' },
    wait: null,
  },
  {
    name: 'push-owner-set-without-predecessor',
    description:
      "Every member serves the owner's set without the predecessor (step 5, PUSH). Post: every IP of every member serves it.",
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: null,
  },
];

/**
 * The owner's KSK roll in model 1, double signature (standards §7.5 M1-KSK, RFC 8901 §6.1): the
 * owner signs the set with both KSKs, the parent's DS moves to the successor, and once the old DS
 * has left every cache the owner signs with the successor alone. The owner (`chorus owner` with
 * both keys) makes every change; the steps observe it.
 */
export const ROLL_OWNER_KSK_STEPS: readonly StepDefinition[] = [
  {
    name: 'introduce-owner-ksk',
    description:
      'The owner adds its new KSK and signs the DNSKEY RRset with the old and the new one (step 1). Post: every member serves that set. Then t_push + DprpC + TTLkey + S (step 2) before the DS may name the new KSK.',
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: 'dnskey',
  },
  {
    name: 'await-parent-ds',
    description:
      "Wait for the parent's DS set to name the new KSK only, through the parent channel or a person at the parent (steps 3–4; unbounded). Then t_ds + DprpP + TTLds + S (step 5) before the old KSK may go.",
    action: null,
    postcondition: { kind: 'parent-ds-matches', group: 'after' },
    wait: 'ds',
  },
  {
    name: 'retire-owner-ksk',
    precondition: { kind: 'parent-ds-matches', group: 'after' },
    description:
      'The owner signs the DNSKEY RRset with the new KSK alone, without the old one (step 6). Post: every member serves that set.',
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: null,
  },
];

/** Model 1's NS steps: DNSKEY, CDS and CDNSKEY stay the owner's, NS and CSYNC follow the group. */
const ownerNs = (apexNs: 'union' | 'after', csync: boolean): DesiredRecipe =>
  recipe({
    participants: 'union',
    keysFrom: 'union',
    cdsFor: 'union',
    csync,
    apexNs,
    keys: 'owner',
  });

/** The step of M1-REMOVE from which the owner signs without the leaving signer's ZSKs. */
export const PUSH_WITHOUT_LEAVER_STEP = 'push-owner-set-without-leaver';

/**
 * ADD-SIGNER in model 1 (standards §7.5 M1-ADD): the owner signs one set with the joiner's ZSKs,
 * every member and the joiner serve it, then the NS steps of §7.1 (7–11). The KSK is the
 * owner's, so the parent's DS does not change.
 */
export const ADD_SIGNER_MODEL1_STEPS: readonly StepDefinition[] = [
  {
    name: 'push-owner-set',
    description:
      "The owner signs a DNSKEY RRset with the joiner's planned ZSKs, and every signer, the joiner included, serves it (M1-ADD steps 1–2, PUSH). Then t_push + DprpC + TTLkey + S (step 3) before resolvers may reach the joiner.",
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: 'dnskey',
  },
  {
    name: 'sync-ns',
    precondition: { kind: 'owner-set-served' },
    description:
      "Every signer serves the union NS set, the joiner's names included (§7.1 step 7). From here resolvers may reach the joiner; every cached DNSKEY RRset holds its ZSKs.",
    action: ownerNs('union', false),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'publish-csync',
    description:
      'Every signer publishes CSYNC 0 1 A NS AAAA so the parent copies the NS set (§7.1 step 8).',
    action: ownerNs('union', true),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ns',
    description:
      'Wait for the parent to delegate to the union NS set (§7.1 step 9), then max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S (step 11).',
    action: null,
    postcondition: { kind: 'parent-ns-matches', group: 'union' },
    wait: 'ns',
  },
  {
    name: 'remove-csync',
    description: 'Every signer withdraws the CSYNC (§7.1 step 10).',
    action: ownerNs('union', false),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
];

/**
 * REMOVE-SIGNER in model 1 (standards §7.5 M1-REMOVE): the NS steps of §7.2 (2–6), the leaving
 * signer's signatures leave every cache, then the owner signs a set without its ZSKs. No DS
 * change: the KSK is the owner's.
 */
export const REMOVE_SIGNER_MODEL1_STEPS: readonly StepDefinition[] = [
  {
    name: 'sync-ns',
    description:
      "Every signer, the leaving one included, serves the NS set without the leaving signer's names (§7.2 step 2). Pre: at least one signer remains.",
    action: ownerNs('after', false),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'publish-csync',
    description: 'Every still-delegated signer publishes CSYNC 0 1 A NS AAAA (§7.2 step 3).',
    action: ownerNs('after', true),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'await-parent-ns',
    description:
      'Wait for the parent to drop the leaving NS (§7.2 step 4), then NS-Wait-Time max(t_pns + DprpP + TTLnsP, t_ns + DprpC + TTLnsC) + S (step 6).',
    action: null,
    postcondition: { kind: 'parent-ns-matches', group: 'after' },
    wait: 'ns',
  },
  {
    name: 'remove-csync',
    description: 'Every signer withdraws the CSYNC (§7.2 step 5).',
    action: ownerNs('after', false),
    postcondition: { kind: 'desired-state-served' },
    wait: null,
  },
  {
    name: 'retire-leaving-signer',
    precondition: { kind: 'parent-ns-matches', group: 'after' },
    description:
      'The leaving signer is out of every NS set and every cache: it may stop serving (M1-REMOVE step 2). Its signatures may still be cached: t_stop + DprpC + TTLsig + S (step 3) before its ZSKs leave the set.',
    action: null,
    postcondition: { kind: 'none' },
    wait: 'signatures',
  },
  {
    name: PUSH_WITHOUT_LEAVER_STEP,
    description:
      "The owner signs a DNSKEY RRset without the leaving signer's ZSKs, and every remaining signer serves it (M1-REMOVE step 4, PUSH).",
    action: null,
    postcondition: { kind: 'owner-set-served' },
    wait: null,
  },
];

/** The model-1 processes built so far; others are refused at pre-flight (see preflight-model1.ts). */
function model1StepsFor(kind: ProcessKind): readonly StepDefinition[] {
  switch (kind) {
    case 'add-signer':
      return ADD_SIGNER_MODEL1_STEPS;
    case 'remove-signer':
      return REMOVE_SIGNER_MODEL1_STEPS;
    case 'roll-zsk':
      return ROLL_ZSK_MODEL1_STEPS;
    case 'roll-ksk':
      return ROLL_OWNER_KSK_STEPS;
    case 'roll-algorithm':
    case 'bootstrap':
      return [];
  }
}

/** The steps of a process; a KSK/CSK roll at a server-timed signer follows the server's schedule. */
export function stepsFor(
  kind: ProcessKind,
  mode: RolloverTiming['mode'] = 'held',
  model: 1 | 2 = 2,
): readonly StepDefinition[] {
  if (model === 1) return model1StepsFor(kind);
  switch (kind) {
    case 'add-signer':
      return ADD_SIGNER_STEPS;
    case 'remove-signer':
      return REMOVE_SIGNER_STEPS;
    case 'roll-zsk':
      return ROLL_ZSK_STEPS;
    case 'roll-ksk':
      return mode === 'server-timed' ? ROLL_KSK_SERVER_TIMED_STEPS : ROLL_KSK_STEPS;
    case 'roll-algorithm':
      // Refused at pre-flight with the missing capability named (see preflight.ts).
      return [];
    case 'bootstrap':
      return BOOTSTRAP_STEPS;
  }
}
