/**
 * What the server needs from the CLI's coordination code. The CLI passes its own functions in
 * (`chorus serve`), so requests are built and appended exactly as its commands do.
 */
import type {
  ChorusError,
  EventLog,
  KeyRole,
  ProcessKind,
  ZoneEvent,
  ZoneEventOf,
} from '@chorus/core';
import type { FoldPolicy, ProcessState, ZoneState } from '@chorus/engine';

/** Where `io` says what the CLI would print while it waits for an unavailable log. */
export interface QuietIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface Coordination {
  readZone(log: EventLog<ZoneEvent>, zone: string): Promise<ZoneState>;
  readKnownZone(log: EventLog<ZoneEvent>, zone: string, path: string): Promise<ZoneState>;
  knownZones(log: EventLog<ZoneEvent>): Promise<string[]>;
  foldPolicyOf(log: EventLog<ZoneEvent>): FoldPolicy | undefined;
  /** What `chorus status ZONE --json` prints for the zone. */
  zoneStatusJson(state: ZoneState): { processes: readonly { id: string }[] };
  requestEvent(
    zone: string,
    kind: ProcessKind,
    signerId: string,
    unsafeSkipWaits: string[] | undefined,
    role: KeyRole | undefined,
    undoOf?: string,
    successorTag?: number,
  ): ZoneEventOf<'process-requested'>;
  appendRequest(
    log: EventLog<ZoneEvent>,
    zone: string,
    event: ZoneEventOf<'process-requested'>,
    io: QuietIo,
  ): Promise<{ afterVersion: number; position: number }>;
  appendToZone<E extends ZoneEvent>(
    log: EventLog<ZoneEvent>,
    zone: string,
    build: (state: ZoneState) => E,
  ): Promise<E>;
  processToStop(state: ZoneState, processId: string | undefined): ProcessState;
  processToUndo(state: ZoneState): ProcessState;
  processEndError(process: ProcessState, zone: string): ChorusError | undefined;
  /** What `chorus stats ZONE --json` prints. */
  zoneStats(log: EventLog<ZoneEvent>, zone: string): Promise<unknown>;
  /**
   * `chorus audit ZONE --json` from the public DNS: the parent servers given, else the parent
   * zone's nameservers through the system resolver. Throws a usage error for a bad server.
   */
  auditZone(
    zone: string,
    options: { parentServers: readonly string[]; childPort?: number },
  ): Promise<unknown>;
  /** A group as `chorus group show G` reads it (only trusted operators' events count). */
  readGroup(log: EventLog<ZoneEvent>, name: string): Promise<{ defined: boolean }>;
}

/** The log the server reads and appends to (signed with the operator key), and its path. */
export interface ServedLog {
  log: EventLog<ZoneEvent>;
  path: string;
  coordination: Coordination;
}
