/**
 * `chorus demo --scenario model1`: Knot and the NS1 fake serve owner.test. under one DNSKEY RRset
 * that the zone owner signs with a KSK in the lab's SoftHSM2 token. The demo runs the owner
 * (`chorus owner`'s signing round, with a second KSK made in the token for the KSK roll) and
 * plays the person at the parent, who changes the DS exactly as Chorus shows it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DnskeyData, EventLog, OwnerKey, ZoneEvent, ZoneOwner } from '@chorus/core';
import {
  computeDs,
  dsIdentity,
  parseRdata,
  parseRecord,
  readTsigKeyFile,
  sendUpdate,
  UpdateBuilder,
} from '@chorus/dns';
import type { ZoneState } from '@chorus/engine';
import type { LabStatus } from '@chorus/lab';
import { generatePkcs11OwnerKey, openPkcs11OwnerKey } from '@chorus/owner';
import { signIfDue } from '../commands/owner.js';
import { readZone } from '../coordination/event-log.js';

/** The owner's signatures last 16 TTLs, and are refreshed with 6 TTLs (plus transit) left. */
const VALIDITY_TTLS = 16;
const REFRESH_LEAD_TTLS = 6;

type Say = (line: string) => void;

/** The zone definition's owner section: the lab's owner KSK, and its schedule in TTLs. */
export function demoOwnerSection(status: LabStatus): ZoneOwner {
  const dnskey = parseRdata('DNSKEY', status.owner!.dnskey!) as DnskeyData;
  return {
    dnskeys: [dnskey],
    signatureValiditySeconds: status.ttl * VALIDITY_TTLS,
    refreshLeadSeconds: status.ttl * REFRESH_LEAD_TTLS,
  };
}

export interface DemoOwner {
  /** The KSK the owner's KSK roll introduces (made in the token at start). */
  successor: DnskeyData;
  /** Stops signing (a lapse on purpose) until `resume`. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** The owner: its KSK and a successor in the lab's token, signing whenever the fold says so. */
export async function startDemoOwner(
  status: LabStatus,
  log: EventLog<ZoneEvent>,
  say: Say,
): Promise<DemoOwner> {
  const hsm = status.owner!.hsm;
  const next = { ...hsm, keyId: '02' };
  generatePkcs11OwnerKey(next, 'owner-ksk-next');
  const keys: OwnerKey[] = [await openPkcs11OwnerKey(hsm), await openPkcs11OwnerKey(next)];
  let running = true;
  let paused = false;
  let lastProblem = '';
  const zone = status.owner!.zone;
  const loop = (async () => {
    while (running) {
      if (!paused) {
        try {
          const said = await signIfDue(log, zone, keys);
          if (said.startsWith('signed')) say(`owner: ${said}`);
          lastProblem = '';
        } catch (error) {
          const problem = error instanceof Error ? error.message : String(error);
          if (problem !== lastProblem) say(`owner: ${problem}`);
          lastProblem = problem;
        }
      }
      await sleep(1000);
    }
  })();
  say(
    `the owner holds KSK ${hsm.keyId} and its successor ${next.keyId} in SoftHSM2 token ${hsm.tokenLabel}`,
  );
  return {
    successor: keys[1]!.dnskey,
    pause: () => void (paused = true),
    resume: () => void (paused = false),
    async stop() {
      running = false;
      await loop;
      await Promise.all(keys.map((key) => key.close()));
    },
  };
}

/** The DS change a step of the zone waits for a person to make, if any. */
function dsChangeWanted(state: ZoneState) {
  for (const process of state.activeProcesses) {
    const change = process.stepStates[process.currentStep]?.parentChange;
    if (change?.kind === 'ds' && change.ds && change.ds.add.length + change.ds.remove.length > 0)
      return change.ds;
  }
  return undefined;
}

/** The person at the parent: applies each DS change Chorus asks for, by TSIG-signed UPDATE. */
export function startPersonAtParent(
  status: LabStatus,
  log: EventLog<ZoneEvent>,
  zone: string,
  say: Say,
): { stop(): Promise<void> } {
  const parent = status.servers.find((entry) => entry.id === 'parent')!;
  const server = { address: parent.address, port: parent.port };
  let running = true;
  const loop = (async () => {
    const tsig = await readTsigKeyFile(parent.tsig.keyFile);
    while (running) {
      const ds = dsChangeWanted(await readZone(log, zone));
      if (ds) {
        const update = new UpdateBuilder(status.parentZone);
        for (const line of ds.remove) update.deleteRecord(parseRecord(line));
        for (const line of ds.add) update.add(parseRecord(line));
        await sendUpdate(server, update, { tsig });
        say(
          `the person at the parent: added DS ${ds.add.join(', ') || 'none'}; removed ${ds.remove.join(', ') || 'none'}`,
        );
      }
      await sleep(1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** The DS the parent must hold at the end of a model-1 run: one per owner KSK (SHA-256). */
export function ownerDsIdentities(state: ZoneState): string[] {
  return (state.owner?.dnskeys ?? [])
    .map((key) => dsIdentity(computeDs(state.zone, key, 2)))
    .sort();
}
