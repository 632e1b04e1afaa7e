import type { NameServer, ZoneName } from '@chorus/core';
import {
  configParser,
  describeValue,
  endpoint,
  failConfig,
  filePath,
  isPlainObject,
  list,
  object,
  oneOf,
  optional,
  signallingZoneSetting,
  signerId,
  text,
  timeoutMs,
  withDefault,
  type ConfigParser,
  type Field,
} from '@chorus/dns';

/** How the plugin changes the zone. See capabilities.ts for why DNS UPDATE is the default. */
export type KnotUpdateMethod = 'dns-update' | 'knotc';

/** How knotc and keymgr reach the server. */
export type KnotControl =
  /** knot.conf: `knotc -c <file>` and `keymgr -c <file>`. */
  | { configFile: string }
  /**
   * The control socket: `knotc -s <socket>`. keymgr then opens the KASP database directly
   * (`keymgr -D <kaspDb>`); without `kaspDb` the plugin asks knotd for `database.kasp-db`.
   */
  | { socket: string; kaspDb?: string };

/** Validated configuration of one Knot signer. Plain JSON; secrets only as file paths. */
export interface KnotSignerConfig {
  /** Instance id, e.g. `knot-ams`. */
  id: string;
  /** Where knotd answers queries and DNS UPDATE. */
  server: { address: string; port: number };
  /** Every address that serves the zone; defaults to `[server]`. */
  nameServers: NameServer[];
  /** BIND-format TSIG key file (`key "name" { algorithm …; secret "…"; };`), for DNS UPDATE. */
  tsigKeyFile: string | undefined;
  knotc: KnotControl;
  /** Default `dns-update`. */
  updateMethod: KnotUpdateMethod;
  /** Paths of the tools; default `knotc` and `keymgr` from PATH. */
  binaries: { knotc: string; keymgr: string };
  /** Timeout of one knotc/keymgr run and of one DNS exchange, in ms. Default 10000. */
  timeoutMs: number;
  /**
   * RFC 9615: the zone(s) knotd serves for its own NS hostnames, signed and securely delegated
   * (e.g. `knot.test.` for `ns.knot.test.`), written with `updateMethod` like the child zones.
   * A zone name or a list in JSON, parsed to a list. Absent: no signals.
   */
  signallingZone?: ZoneName[];
}

const SOURCE = 'knot plugin';
const SECRET_HINT = 'secrets are configured only as file paths: tsigKeyFile';

const byConfigFile = object({ configFile: filePath() });
const bySocket = object({ socket: filePath(), kaspDb: optional(filePath()) });

/** `{ configFile }` or `{ socket, kaspDb? }`: exactly one of the two. */
const control: Field<KnotControl> = (value, scope) => {
  if (!isPlainObject(value))
    failConfig(scope, `must be { configFile } or { socket, kaspDb? }, got ${describeValue(value)}`);
  const hasConfig = value.configFile !== undefined;
  if (hasConfig === (value.socket !== undefined))
    failConfig(
      scope,
      'needs exactly one of configFile (knot.conf) and socket (the control socket)',
    );
  if (hasConfig && value.kaspDb !== undefined)
    failConfig({ ...scope, key: `${scope.key}.kaspDb` }, 'is not allowed next to knotc.configFile');
  return hasConfig ? byConfigFile(value, scope) : bySocket(value, scope);
};

const schema = object(
  {
    id: signerId(),
    server: endpoint({ defaultPort: 53 }),
    nameServers: optional(list(endpoint({ defaultPort: 53 }), { hint: '{ address, port? }' })),
    tsigKeyFile: optional(filePath({ mustExist: true })),
    knotc: control,
    updateMethod: withDefault(oneOf(['dns-update', 'knotc']), 'dns-update'),
    binaries: withDefault(
      object({ knotc: withDefault(text(), 'knotc'), keymgr: withDefault(text(), 'keymgr') }),
      { knotc: 'knotc', keymgr: 'keymgr' },
    ),
    timeoutMs: timeoutMs(10_000),
    signallingZone: optional(signallingZoneSetting()),
  },
  { secretHint: SECRET_HINT },
);

/**
 * Validates raw configuration. Throws ConfigError naming the key. With `checkFiles` (at
 * start-up) the TSIG key file must be readable.
 *
 * @example
 * parseKnotConfig({
 *   id: 'knot', server: { address: '127.53.0.4' }, tsigKeyFile: '/etc/knot/chorus.key',
 *   knotc: { configFile: '/etc/knot/knot.conf' },
 * });
 */
export const parseKnotConfig: ConfigParser<KnotSignerConfig> = configParser(
  schema,
  SOURCE,
  (parsed) => {
    if (parsed.tsigKeyFile === undefined && parsed.updateMethod !== 'knotc')
      failConfig(
        { source: SOURCE, key: 'tsigKeyFile' },
        'is required with updateMethod "dns-update" (or set updateMethod "knotc")',
      );
    return {
      ...parsed,
      nameServers: parsed.nameServers ?? [parsed.server],
      tsigKeyFile: parsed.tsigKeyFile,
    };
  },
);
