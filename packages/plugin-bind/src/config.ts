import {
  configParser,
  endpoint,
  failConfig,
  filePath,
  integer,
  ipAddress,
  isPlainObject,
  list,
  object,
  oneOf,
  optional,
  port,
  signallingZoneSetting,
  signerId,
  text,
  type ConfigParser,
  type Field,
} from '@chorus/dns';

/** A DNS or control endpoint: an IP literal and a port. */
export interface BindEndpoint {
  address: string;
  /** Default 53 for DNS, 953 for rndc. */
  port?: number;
}

/** How to reach rndc: an rndc.conf that names the server and the key, or the server and a key file. */
export type BindRndcConfig =
  | {
      /** `rndc -c <configFile>`: the file names the server, port and key. */
      configFile: string;
      /** The rndc program. Default `rndc` from PATH. */
      binary?: string;
      /** Per-command timeout in milliseconds. Default 10000. */
      timeoutMs?: number;
      /** See BindRndcClient. */
      client?: BindRndcClient;
    }
  | {
      /** `rndc -s <address> -p <port> -k <keyFile>`. */
      address: string;
      /** Default 953. */
      port?: number;
      /** The file with the rndc `key` clause (as written by `rndc-confgen -a`). */
      keyFile: string;
      binary?: string;
      timeoutMs?: number;
      client?: BindRndcClient;
    };

/**
 * How commands reach named: `channel` speaks the control channel protocol itself (one TCP
 * exchange, no process); `program` runs the rndc program. Default `channel`, or `program` when
 * `binary` is set.
 */
export type BindRndcClient = 'channel' | 'program';

/** The plain-JSON configuration of one BIND signer. Secrets appear only as file paths. */
export interface BindConfig {
  /** The instance id, e.g. `bind-ams`. */
  id: string;
  /** Where BIND answers queries and takes DNS UPDATE. */
  server: BindEndpoint;
  /** The addresses the conformance suite and core ask; default `[server]`. */
  nameServers?: BindEndpoint[];
  /** A BIND `key` clause file with the TSIG key allowed to update the zones (`tsig-keygen`). */
  tsigKeyFile: string;
  rndc: BindRndcConfig;
  /**
   * The zones' `key-directory`, where BIND keeps `K<zone>+<alg>+<tag>.{key,private,state}`. With
   * `{zone}` in it, each zone's own (`/var/lib/bind/keys/{zone}` for `example.com`:
   * `/var/lib/bind/keys/example.com`), as named.conf's per-zone `key-directory` says; advised with
   * thousands of zones, since BIND lists a zone's whole key-directory whenever it manages its keys.
   */
  keyDirectory: string;
  /**
   * BIND's named.conf, read with `named-checkconf -px` for the timing of the zone's
   * dnssec-policy. Needed for key rolls (`keyRoller.rolloverTiming`); optional otherwise.
   */
  namedConfigFile?: string;
  /** The named-checkconf program. Default `named-checkconf` from PATH. */
  namedCheckconfBinary?: string;
  /**
   * Zone transfers (content reads) at once. Default 8: below BIND's `transfers-out` (10), which
   * answers SERVFAIL beyond it ("AXFR request denied: quota reached").
   */
  maxConcurrentTransfers?: number;
  /**
   * RFC 9615: the zone (or zones) this server serves for its own NS hostnames, signed, securely
   * delegated and updatable with the TSIG key (e.g. `bind.test.` for `ns.bind.test.`). With it
   * the signer publishes `_dsboot.<zone>._signal.<ns>` there. Parsed to a list.
   */
  signallingZone?: string | string[];
}

export const DEFAULT_DNS_PORT = 53;
export const DEFAULT_RNDC_PORT = 953;
export const DEFAULT_RNDC_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_CONCURRENT_TRANSFERS = 8;

const SOURCE = 'bind plugin configuration';
const SECRET_HINT = 'secrets are configured only as file paths: tsigKeyFile, rndc.keyFile';

const common = {
  binary: optional(text()),
  client: optional(oneOf(['channel', 'program'] as const)),
  timeoutMs: optional(integer({ min: 1, max: 600_000, unit: 'milliseconds' })),
};

const rndcByConfigFile = object({ configFile: filePath(), ...common }, { secretHint: SECRET_HINT });
const rndcByAddress = object(
  {
    address: ipAddress(),
    port: optional(port()),
    keyFile: filePath({ mustExist: true }),
    ...common,
  },
  { secretHint: SECRET_HINT },
);

/** `{ configFile }` or `{ address, keyFile }`; which one is decided by the keys present. */
const rndc: Field<BindRndcConfig> = (value, scope) => {
  if (isPlainObject(value) && value.configFile !== undefined) return rndcByConfigFile(value, scope);
  if (isPlainObject(value) && value.address === undefined && value.keyFile === undefined)
    failConfig(scope, 'needs either configFile, or address and keyFile');
  return rndcByAddress(value, scope);
};

const schema = object(
  {
    id: signerId(),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    tsigKeyFile: filePath({ mustExist: true }),
    rndc,
    keyDirectory: filePath(),
    namedConfigFile: optional(filePath()),
    namedCheckconfBinary: optional(text()),
    maxConcurrentTransfers: optional(integer({ min: 1, max: 1000, unit: 'transfers' })),
    signallingZone: optional(signallingZoneSetting()),
  },
  { secretHint: SECRET_HINT },
);

/**
 * Validates the raw (JSON) configuration of a BIND signer. Throws ConfigError naming the key.
 * With `checkFiles` (at start-up) the TSIG and rndc key files must be readable.
 *
 * @example
 * parseBindConfig({
 *   id: 'bind-ams',
 *   server: { address: '127.0.0.1', port: 53 },
 *   tsigKeyFile: '/etc/chorus/bind-ddns.key',
 *   rndc: { configFile: '/etc/bind/rndc.conf' },
 *   keyDirectory: '/var/lib/bind/keys',
 *   namedConfigFile: '/etc/bind/named.conf',
 *   signallingZone: 'bind.test.',
 * });
 */
export const parseBindConfig: ConfigParser<BindConfig> = configParser(schema, SOURCE);
