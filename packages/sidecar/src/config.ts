import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type DsData, type NameServer, type TrustAnchor } from '@chorus/core';
import { parseEventLogConfig, type EventLogConfig } from './event-log.js';
import { loadTrustFile, parseTrustAnchor } from './event-trust.js';
import {
  apiUrl,
  canonicalName,
  dnsName,
  endpoint,
  failConfig,
  filePath,
  integer,
  ipAddress,
  list,
  normalizeName,
  object,
  oneOf,
  optional,
  parseRdata,
  parseRecord,
  port,
  signerId,
  text,
  validateConfig,
  withDefault,
  type ConfigScope,
  type Field,
} from '@chorus/dns';

/**
 * The sidecar's configuration file (JSON). Secrets never appear in it: plugins take key files,
 * and `${env:NAME}` references are expanded from the environment for values that must be
 * inline. Every problem is a ConfigError naming the key.
 */
export interface SidecarConfig {
  /** This sidecar's signer id, unique in every zone it serves, e.g. `bind`. */
  id: string;
  /** The shared event log: a SQLite file on this host, or a NATS JetStream cluster. */
  eventLog: EventLogConfig;
  /** This sidecar's Ed25519 event key (PKCS #8 PEM, mode 0600): it signs every event it appends. */
  eventKeyFile: string;
  /**
   * The operator's trust anchor: which keys may write what (docs/security.md). Events signed by
   * any other key are refused by the fold. In the file as `{ "file": "trust.json" }` or inline.
   */
  trust: TrustAnchor;
  /** UNSAFE: accept requests that skip waits. Only the demo's and the tests' negative controls set it. */
  unsafeAllowSkipWaits?: boolean;
  /** The signer plugin: a package name (or a file path) exporting a plugin definition, and its configuration. */
  signer: { plugin: string; config: unknown };
  zones: string[];
  /** The NS names this signer serves the zones under (what the parent will delegate to). */
  nameServerNames: string[];
  /**
   * Where the parent is observed: the addresses of every parent nameserver. `notify`: where
   * NOTIFY(CDS) or NOTIFY(CSYNC) goes when a step waits for the parent (RFC 9859), so that its
   * scanner looks at once rather than on its schedule: `"dsync"` (the default) for the targets
   * the parent publishes in DSYNC, `"off"` for none, or a list of addresses.
   */
  parent: {
    zone: string;
    servers: NameServer[];
    notify?: ParentNotifySetting;
    /**
     * A registrar's REST API that takes the zone's DS and NS (`docs/parent-channels.md`): parent
     * steps send the group's sets there. Without it the parent is observed only.
     */
    registrar?: { url: string; tokenFile: string };
  };
  /** pino level; default `info`. */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * How often the key watch reads the server's own keys, in seconds (default 30). A server-timed
   * roll must pre-publish for longer than this plus the group's DNSKEY wait.
   */
  keyWatchSeconds?: number;
  /**
   * The most zones the key watch reads a second (default 50): with more zones than
   * `keyWatchSeconds` × this, each zone is read every zones ÷ this seconds instead.
   */
  keyWatchPerSecond?: number;
  /**
   * At most this many zones' changes to the server at once; default: the plugin's declared
   * `concurrent-changes` limit (one when it declares none).
   */
  maxConcurrentChanges?: number;
  /**
   * Observers this sidecar runs for each of its zones, recording what they find in the event
   * log's observation stream. One sidecar of a group is enough.
   */
  observers?: SidecarObserversConfig;
}

export interface SidecarObserversConfig {
  /**
   * The invariants I1–I9, sampled every `intervalMs`: all the time (`always`, the default), or
   * during each process and a minute after (`during-process`).
   */
  consistency?: { intervalMs: number; mode: 'always' | 'during-process' };
  /** Our own validator against every signer, cross-checked against the resolvers given. */
  validation?: {
    /**
     * DS records of the parent zone's KSK: the trust anchor, as the bare rdata
     * (`12345 13 2 ABCD…`) or the whole line `lab status` prints (`test. 10 IN DS 12345 13 2 ABCD…`).
     */
    trustAnchor: DsData[];
    /** Validating resolvers to cross-check; `pinnedTo` names the signer a resolver only asks. */
    resolvers: { id: string; server: NameServer; pinnedTo?: string }[];
    intervalMs: number;
  };
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Any value: the plugin validates its own configuration. */
const pluginConfig: Field<unknown> = (value) => value;

const rootSchema = object({
  id: signerId({ lowerCaseOnly: true }),
  eventLog: pluginConfig,
  signer: object({ plugin: text(), config: pluginConfig }),
  zones: list(dnsName(), { hint: 'domain names' }),
  nameServerNames: list(dnsName(), { hint: 'domain names' }),
  parent: object({
    zone: dnsName(),
    servers: list(endpoint({ defaultPort: 53 }), { hint: 'every parent nameserver address' }),
    notify: optional(parentNotifySetting()),
    registrar: optional(
      object({
        url: apiUrl({
          path: /\/v1$/,
          pathHint: '/v1 (e.g. https://registrar.example/v1)',
          secretHint: 'the token goes in tokenFile',
          httpsUnlessLoopback: true,
        }),
        tokenFile: filePath({ mustExist: true }),
      }),
    ),
  }),
  logLevel: withDefault(oneOf(LEVELS), 'info'),
  keyWatchSeconds: withDefault(integer({ min: 1, max: 86_400, unit: 'seconds' }), 30),
  keyWatchPerSecond: optional(integer({ min: 1, max: 10_000, unit: 'zones a second' })),
  maxConcurrentChanges: optional(integer({ min: 1, max: 1000, unit: 'changes' })),
  observers: optional(pluginConfig),
  eventKeyFile: text({ hint: "the sidecar's Ed25519 key file (chorus keygen FILE)" }),
  trust: pluginConfig,
  unsafeAllowSkipWaits: optional(pluginConfig),
});

/** `{ "file": PATH }` or an inline anchor. */
function parseTrust(raw: unknown, source: string, baseDirectory: string): TrustAnchor {
  if (typeof raw === 'object' && raw !== null && 'file' in raw) {
    const file = raw.file;
    if (typeof file !== 'string' || file === '' || Object.keys(raw).length > 1)
      failConfig({ source, key: 'trust' }, 'give either { "file": PATH } or the keys inline');
    return loadTrustFile(path.resolve(baseDirectory, file));
  }
  return parseTrustAnchor(raw, source);
}

function unsafeFlag(raw: unknown, source: string): boolean {
  if (raw === undefined || raw === false) return false;
  if (raw === true) return true;
  return failConfig({ source, key: 'unsafeAllowSkipWaits' }, 'must be true or false');
}

const intervalMs = withDefault(integer({ min: 200, max: 3_600_000, unit: 'milliseconds' }), 1000);

/**
 * A DS record of the trust anchor, in either form `lab status` and zone files use: the whole
 * presentation line (`test. 10 IN DS 12345 13 2 ABCD…`, owner = the parent zone) or the bare
 * rdata (`12345 13 2 ABCD…`).
 */
/** `parent.notify`: DSYNC discovery, none, or fixed scanner addresses. */
export type ParentNotifySetting = 'dsync' | 'off' | NameServer[];

function parentNotifySetting(): Field<ParentNotifySetting> {
  const addresses = list(endpoint({ defaultPort: 53 }), {
    hint: "the parent's CDS/CSYNC scanner addresses",
  });
  return (value, scope) => {
    if (value === 'dsync' || value === 'off') return value;
    if (typeof value === 'string')
      failConfig(
        scope,
        `must be "dsync", "off" or a list of addresses, got ${JSON.stringify(value)}`,
      );
    return addresses(value, scope);
  };
}

function trustAnchorEntry(parentZone: string): Field<DsData> {
  return (value, scope) => {
    const line = text()(value, scope);
    const isRecordLine = /(^|\s)DS(\s|$)/i.test(line);
    let record: { name: string; data: DsData };
    try {
      record = isRecordLine
        ? (parseRecord(line, { defaultTtl: 0 }) as { name: string; data: DsData })
        : { name: parentZone, data: parseRdata('DS', line) as DsData };
    } catch (error) {
      return failConfig(scope, `not a DS record: ${(error as Error).message}`);
    }
    if (isRecordLine && canonicalName(normalizeName(record.name)) !== canonicalName(parentZone))
      failConfig(scope, `is the DS of ${record.name}, but parent.zone is ${parentZone}`);
    return record.data;
  };
}

const resolver = object({
  id: text(),
  address: ipAddress(),
  port: withDefault(port(), 53),
  pinnedTo: optional(text()),
});

type Resolver = ReturnType<typeof resolver>;

/** Resolvers to cross-check; an empty list is allowed (our validator alone). */
const resolvers: Field<Resolver[]> = (value, scope) =>
  Array.isArray(value) && value.length === 0 ? [] : list(resolver)(value, scope);

function observersSchema(parentZone: string) {
  return object({
    consistency: optional(
      object({ intervalMs, mode: withDefault(oneOf(['always', 'during-process']), 'always') }),
    ),
    validation: optional(
      object({
        trustAnchor: list(trustAnchorEntry(parentZone), {
          hint: 'DS records of the parent zone, e.g. "12345 13 2 ABCD…"',
        }),
        resolvers: withDefault(resolvers, []),
        intervalMs,
      }),
    ),
  });
}

/** Replaces `${env:NAME}` in strings; a missing variable is an error naming it (never its value). */
function expandEnvironment(value: unknown, key: string, source: string): unknown {
  if (typeof value === 'string') {
    return value.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
      const found = process.env[name];
      if (found === undefined)
        throw new ConfigError({ key, problem: `environment variable ${name} is not set`, source });
      return found;
    });
  }
  if (Array.isArray(value))
    return value.map((item, index) => expandEnvironment(item, `${key}[${index}]`, source));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [
        name,
        expandEnvironment(item, key ? `${key}.${name}` : name, source),
      ]),
    );
  }
  return value;
}

export function parseSidecarConfig(
  raw: unknown,
  source = 'sidecar config',
  baseDirectory = process.cwd(),
): SidecarConfig {
  const expanded = expandEnvironment(raw, '', source);
  const root = validateConfig(rootSchema, expanded, { source });
  const config: SidecarConfig = {
    id: root.id,
    zones: root.zones,
    nameServerNames: root.nameServerNames,
    parent: {
      zone: root.parent.zone,
      servers: root.parent.servers,
      ...(root.parent.notify ? { notify: root.parent.notify } : {}),
      ...(root.parent.registrar ? { registrar: root.parent.registrar } : {}),
    },
    logLevel: root.logLevel,
    keyWatchSeconds: root.keyWatchSeconds,
    ...(root.keyWatchPerSecond !== undefined ? { keyWatchPerSecond: root.keyWatchPerSecond } : {}),
    ...(root.maxConcurrentChanges !== undefined
      ? { maxConcurrentChanges: root.maxConcurrentChanges }
      : {}),
    eventLog: parseEventLogConfig(root.eventLog, source, baseDirectory),
    signer: { plugin: root.signer.plugin, config: root.signer.config },
    eventKeyFile: path.resolve(baseDirectory, root.eventKeyFile),
    trust: parseTrust(root.trust, source, baseDirectory),
    ...(unsafeFlag(root.unsafeAllowSkipWaits, source) ? { unsafeAllowSkipWaits: true } : {}),
  };
  if (root.observers === undefined) return config;
  const scope = { source, key: 'observers', checkFiles: false };
  return { ...config, observers: parseObservers(root.observers, root.parent.zone, scope) };
}

function parseObservers(
  raw: unknown,
  parentZone: string,
  scope: ConfigScope,
): SidecarObserversConfig {
  const { consistency, validation } = observersSchema(parentZone)(raw, scope);
  return {
    ...(consistency ? { consistency } : {}),
    ...(validation
      ? {
          validation: {
            trustAnchor: validation.trustAnchor,
            resolvers: validation.resolvers.map(({ id, address, port, pinnedTo }) => ({
              id,
              server: { address, port },
              ...(pinnedTo === undefined ? {} : { pinnedTo }),
            })),
            intervalMs: validation.intervalMs,
          },
        }
      : {}),
  };
}

export async function loadSidecarConfig(file: string): Promise<SidecarConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError({
      key: 'file',
      problem: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError({
      key: 'file',
      problem: `${file} is not valid JSON: ${(error as Error).message}`,
    });
  }
  return parseSidecarConfig(raw, file, path.dirname(path.resolve(file)));
}
