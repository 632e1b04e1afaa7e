/**
 * The three attacks of issue 12, replayed on a running group, once on the SQLite log and once on
 * the lab's NATS cluster: events written straight into the shared log, unsigned or signed by a
 * key no operator trusts, or genuine but misplaced. On NATS the attacker writes with a sidecar's
 * stolen NATS credentials, which let it publish but not sign. Each event is refused by every
 * sidecar's fold, recorded as a security finding, shown by `chorus status` and `chorus events`
 * and logged at error level, and dig shows no change at any signer or at the parent. The control:
 * the same request signed by the operator is acted upon, and dig sees it.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSigningEventLog,
  eventSigningKey,
  generateEventKey,
  zoneEvent,
  zoneStream,
  type EventLog,
  type SignedFields,
  type ZoneEvent,
} from '@chorus/core';
import {
  labEventLogConfig,
  openLabEventLog,
  readZone,
  runCli,
  sidecarConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
  type CliIo,
  type RunningSidecar,
} from '@chorus/cli';
import { defineZone, type ZoneState } from '@chorus/engine';
import { createSqliteEventLog } from '@chorus/event-log-sqlite';
import { labDown, labUp, type LabStatus } from '@chorus/lab';
import { labServer, waitUntil } from '@chorus/lab/testing';
import { CLI_MAIN } from './helpers/cli.js';
import { operatorLog } from './helpers/trust.js';

// CHORUS_TEST_FORGED_PREFIX lets several test runs share one machine without colliding: the
// SQLite run uses it, the NATS run the next /24 up.
const PREFIX = process.env.CHORUS_TEST_FORGED_PREFIX ?? '127.67.0';
const nextPrefix = (prefix: string) =>
  prefix.replace(/\.(\d+)$/, (_match, octet: string) => `.${Number(octet) + 1}`);
const SIGNERS = ['bind', 'powerdns', 'knot'] as const;
const run = promisify(execFile);

function forgedEventsOn(kind: 'sqlite' | 'nats', prefix: string): void {
  describe(`forged and misplaced events in the shared log (${kind})`, () => {
    let directory: string;
    let lab: LabStatus;
    let zone: string;
    let eventLogPath: string;
    let sqliteFile: string;
    let raw: EventLog<ZoneEvent>;
    let operator: EventLog<ZoneEvent>;
    const sidecars: RunningSidecar[] = [];

    /** What dig shows: each signer's DNSKEY and CDS, and the parent's DS and NS for the zone. */
    async function served(): Promise<Record<string, string[]>> {
      const dig = async (server: { address: string; port: number }, name: string, type: string) => {
        const { stdout } = await run('dig', [
          `@${server.address}`,
          '-p',
          String(server.port),
          '+short',
          '+norecurse',
          name,
          type,
        ]);
        return stdout.split('\n').filter(Boolean).sort();
      };
      const parent = labServer(lab, 'parent');
      const entries = await Promise.all([
        ...SIGNERS.flatMap((id) =>
          ['DNSKEY', 'CDS'].map(
            async (type) => [`${id} ${type}`, await dig(labServer(lab, id), zone, type)] as const,
          ),
        ),
        dig(parent, zone, 'DS').then((records) => ['parent DS', records] as const),
        dig(parent, zone, 'NS').then((records) => ['parent NS', records] as const),
      ]);
      return Object.fromEntries(entries);
    }

    const state = (): Promise<ZoneState> => readZone(operator, zone);

    async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
      let out = '';
      let err = '';
      const io: CliIo = {
        stdout: (text) => void (out += text),
        stderr: (text) => void (err += text),
      };
      const kit = path.join(path.dirname(sqliteFile), 'trust');
      const code = await runCli(
        [...args, '--log', eventLogPath, '--trust', path.join(kit, 'trust.json')],
        io,
      );
      return { code, out, err };
    }

    beforeAll(async () => {
      directory = await mkdtemp(path.join(tmpdir(), 'chorus-forged-'));
      lab = await labUp({
        directory,
        addressPrefix: prefix,
        ttl: 5,
        ...(kind === 'nats' ? { eventLog: 'nats' as const } : {}),
      });
      zone = lab.zones[0]!;
      sqliteFile = path.join(directory, 'run', 'events.sqlite');
      eventLogPath = sqliteFile;
      for (const id of SIGNERS) {
        const config = sidecarConfigFor(lab, labServer(lab, id), sqliteFile, zone);
        sidecars.push(
          await startSidecarProcess(path.join(directory, 'run'), config, { cliMain: CLI_MAIN }),
        );
      }
      if (kind === 'nats') {
        // The attacker holds PowerDNS's NATS credentials, not its event key.
        raw = await openLabEventLog<ZoneEvent>(lab, sqliteFile, 'powerdns');
        operator = operatorLog(
          await openLabEventLog<ZoneEvent>(lab, sqliteFile, 'operator'),
          path.dirname(sqliteFile),
        );
        eventLogPath = path.join(directory, 'run', 'event-log.json');
        const config = labEventLogConfig(lab, sqliteFile, 'operator');
        await writeFile(eventLogPath, JSON.stringify(config), { mode: 0o600 });
      } else {
        raw = createSqliteEventLog<ZoneEvent>({ path: sqliteFile });
        operator = operatorLog(raw, path.dirname(sqliteFile));
      }
      const registered = await waitUntil(
        'the sidecars to register',
        async () => {
          const current = await state().catch(() => undefined);
          return current && SIGNERS.every((id) => current.signers[id]?.keys.length)
            ? current
            : undefined;
        },
        { timeoutMs: 30_000 },
      );
      await operator.append(zoneStream(zone), registered.version, [
        defineZone(
          registered,
          { source: { kind: 'cli', id: 'lab-operator' }, now: new Date().toISOString() },
          {
            parentZone: lab.parentZone,
            signerIds: ['bind'],
            timing: {
              childPropagationSeconds: 1,
              parentPropagationSeconds: 1,
              safetyMarginSeconds: 1,
              maxZoneTtlSeconds: lab.ttl,
            },
            recordTtlSeconds: lab.ttl,
          },
        ),
      ]);
    }, 120_000);

    afterAll(async () => {
      for (const sidecar of sidecars) await stopSidecarProcess(sidecar);
      if (operator !== raw) await operator?.close();
      await raw?.close();
      await labDown({ directory }).catch(() => undefined);
      await rm(directory, { recursive: true, force: true });
    });

    /** Appends straight into the log, as anyone with write access to it could. */
    async function inject(event: ZoneEvent, log: EventLog<ZoneEvent> = raw): Promise<void> {
      await log.append(zoneStream(zone), await raw.streamVersion(zoneStream(zone)), [event]);
    }

    const attackerKey = eventSigningKey(generateEventKey().privateKeyPem);
    const asAttacker = () => createSigningEventLog(raw, attackerKey);
    const fields = (source: { kind: string; id: string }) => ({ zone: '', source });

    function request(signerId: string, extra: Record<string, unknown> = {}): ZoneEvent {
      return zoneEvent(
        'process-requested',
        { ...fields({ kind: 'cli', id: 'lab-operator' }), zone },
        {
          processId: `forged-${signerId}-${Math.random().toString(36).slice(2, 8)}`,
          kind: 'add-signer',
          signerId,
          requestedBy: 'lab-operator',
          ...extra,
        },
      );
    }

    it('are refused, recorded, shown and logged, and change nothing anyone can dig', async () => {
      const defined = await waitUntil('the zone to be defined', async () =>
        (await state()).defined ? true : undefined,
      );
      expect(defined).toBe(true);
      const before = await served();
      const versionBefore = (await state()).version;

      // Attack 1: a request that skips the waits, unsigned; then the same signed by the operator
      // (the sidecars were not started with the unsafe flag).
      await inject(request('powerdns', { unsafeSkipWaits: ['await-parent-ds'] }));
      await inject(request('powerdns', { unsafeSkipWaits: ['await-parent-ds'] }), operator);
      // Attack 2: an attacker's signer, its keys and its admission, under a key nobody trusts.
      const knotKeys = (await state()).signers.knot!.keys;
      const evil = {
        id: 'evil',
        kind: 'knot',
        nameServerNames: ['ns.evil.test.'],
        endpoints: [{ address: `${prefix}.99`, port: 53 }],
      };
      await inject(
        zoneEvent(
          'signer-registered',
          { zone, source: { kind: 'sidecar', id: 'evil' } },
          { signer: evil },
        ),
        asAttacker(),
      );
      await inject(
        zoneEvent(
          'signer-keys-observed',
          { zone, source: { kind: 'sidecar', id: 'evil' } },
          { signerId: 'evil', keys: knotKeys },
        ),
        asAttacker(),
      );
      await inject(request('evil'), asAttacker());
      // Attack 3: a reconciliation claimed for a member, and a genuine event replayed.
      await inject(
        zoneEvent(
          'signer-reconciled',
          { zone, source: { kind: 'sidecar', id: 'powerdns' } },
          { processId: 'forged', stepIndex: 0, signerId: 'powerdns', applied: 1 },
        ),
        asAttacker(),
      );
      const genuine = (await raw.readStream(zoneStream(zone))).find(
        (recorded) => recorded.event.type === 'zone-defined',
      )!.event as ZoneEvent & SignedFields;
      expect(genuine.signature).toBeDefined();
      await inject(genuine);

      // Long enough for every sidecar to wake, fold and decide several times (key watch: 2 s).
      await new Promise((resolve) => setTimeout(resolve, 8000));
      const after = await state();
      expect(after.securityFindings.map((finding) => finding.code)).toEqual([
        'unsigned',
        'unsafe-skip-waits-refused',
        'unknown-key',
        'unknown-key',
        'unknown-key',
        'unknown-key',
        'replayed',
      ]);
      expect(after.members).toEqual(['bind']);
      expect(after.signers.evil).toBeUndefined();
      expect(after.pendingRequests).toEqual([]);
      expect(after.processes).toEqual([]);
      // Nothing but the refused events was appended: no sidecar acted on them.
      expect(after.version).toBe(versionBefore + 7);
      expect(await served()).toEqual(before);

      const status = await cli(['status', zone]);
      expect(status.code).toBe(0);
      expect(status.out.match(/SECURITY: refused/g)).toHaveLength(7);
      expect(status.out).toContain('[unsafe-skip-waits-refused]');
      const events = await cli(['events', zone]);
      expect(events.out.match(/ REFUSED \[/g)).toHaveLength(7);
      for (const sidecar of sidecars) {
        const log = await readFile(sidecar.logFile, 'utf8');
        expect(log, sidecar.id).toMatch(/"level":50.*security: refused process-requested/);
      }

      // The control: the same admission, signed by the operator, is acted upon and dig sees it.
      await inject(request('powerdns'), operator);
      const changed = await waitUntil(
        'powerdns to publish the group DNSKEYs',
        async () => {
          const now = await served();
          return now['powerdns DNSKEY']!.join() !== before['powerdns DNSKEY']!.join()
            ? now
            : undefined;
        },
        { timeoutMs: 30_000 },
      );
      expect(changed['powerdns DNSKEY']!.length).toBeGreaterThan(before['powerdns DNSKEY']!.length);
      expect((await state()).processes.map((process) => process.signerId)).toEqual(['powerdns']);
    }, 120_000);
  });
}

forgedEventsOn('sqlite', PREFIX);
forgedEventsOn('nats', nextPrefix(PREFIX));
