/**
 * The trust kit of a lab run (demo and tests): an operator key, one event key per sidecar, and the
 * trust file naming them, in `<dir>/trust/`. Made once, on first use, with 0600 private keys;
 * a real deployment makes the same files with `chorus keygen` on each host.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  createSigningEventLog,
  type EventLog,
  type TrustAnchor,
  type ZoneEvent,
} from '@chorus/core';
import { createEventKeyFile, loadEventKey } from '@chorus/sidecar';
import { asOperator } from './event-log.js';

/** The operator id of the lab's operator key. */
export const KIT_OPERATOR = 'lab-operator';

export interface TrustKit {
  directory: string;
  trustFile: string;
  operatorKeyFile: string;
  keyFileOf(sidecarId: string): string;
}

export function trustKitAt(directory: string): TrustKit {
  const dir = path.join(directory, 'trust');
  return {
    directory: dir,
    trustFile: path.join(dir, 'trust.json'),
    operatorKeyFile: path.join(dir, `${KIT_OPERATOR}.key`),
    keyFileOf: (id) => path.join(dir, `sidecar-${id}.key`),
  };
}

function publicKeyOf(file: string): string {
  return existsSync(file) ? loadEventKey(file).publicKey : createEventKeyFile(file);
}

/** Makes (or completes) the kit so that the operator and every sidecar id given are trusted. */
export function ensureTrustKit(directory: string, sidecarIds: readonly string[]): TrustKit {
  const kit = trustKitAt(directory);
  mkdirSync(kit.directory, { recursive: true, mode: 0o700 });
  const anchor: TrustAnchor = existsSync(kit.trustFile)
    ? (JSON.parse(readFileSync(kit.trustFile, 'utf8')) as TrustAnchor)
    : { operators: {}, sidecars: {}, observers: {} };
  const sidecars = { ...anchor.sidecars };
  for (const id of sidecarIds) sidecars[id] = publicKeyOf(kit.keyFileOf(id));
  const next = {
    operators: { ...anchor.operators, [KIT_OPERATOR]: publicKeyOf(kit.operatorKeyFile) },
    sidecars,
    observers: anchor.observers ?? {},
  };
  if (JSON.stringify(next) !== JSON.stringify(anchor)) {
    const temporary = `${kit.trustFile}.${process.pid}`;
    writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o644 });
    renameSync(temporary, kit.trustFile);
  }
  return kit;
}

/**
 * The log as the kit's operator writes it (signed, verified with the kit's trust file). A demo
 * run whose sidecars accept skipped waits (a negative control) folds the same way they do.
 */
export function kitOperatorLog(
  log: EventLog<ZoneEvent>,
  kit: TrustKit,
  options: { allowUnsafeSkipWaits?: boolean } = {},
): EventLog<ZoneEvent> {
  return asOperator(log, { trust: kit.trustFile, key: kit.operatorKeyFile }, 'demo', options);
}

/** The log as sidecar `id` of the kit writes it (signed with its key; the source is the caller's). */
export function kitSidecarLog<E extends object>(
  log: EventLog<E>,
  kit: TrustKit,
  id: string,
): EventLog<E> {
  return createSigningEventLog(log, loadEventKey(kit.keyFileOf(id)));
}
