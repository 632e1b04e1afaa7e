import type { NameServer, ZoneName } from '@chorus/core';
import {
  apiUrl,
  configParser,
  endpoint,
  filePath,
  list,
  object,
  optional,
  signallingZoneSetting,
  signerId,
  timeoutMs,
  withNameServers,
  type ConfigParser,
} from '@chorus/dns';

/**
 * Configuration of one PowerDNS signer. Plain JSON; the API key is never in it, only the path
 * of the file that holds it.
 *
 * @example
 * {
 *   "id": "powerdns-ams",
 *   "server": { "address": "127.53.0.3", "port": 53 },
 *   "api": {
 *     "url": "http://127.53.0.3:8081/api/v1/servers/localhost",
 *     "apiKeyFile": "/etc/chorus/powerdns-api.key"
 *   },
 *   "signallingZone": "powerdns.test."
 * }
 */
export interface PowerDnsConfig {
  /** The signer's id, e.g. `powerdns-ams`: lower-case letters, digits and dashes. */
  id: string;
  /** Where PowerDNS answers DNS queries; the apex is read from here, on the wire. */
  server: NameServer;
  /** Every address that serves this signer's zones (post-conditions ask each). Default: `[server]`. */
  nameServers?: NameServer[];
  api: {
    /** Base URL of the server in the HTTP API, e.g. `http://127.0.0.1:8081/api/v1/servers/localhost`. */
    url: string;
    /** A file whose content (trimmed) is sent as the `X-API-Key` header. */
    apiKeyFile: string;
  };
  /** Time limit of each HTTP request and DNS query, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
  /**
   * RFC 9615: the zone (or zones) this PowerDNS serves for its own NS hostnames, signed and
   * securely delegated (e.g. `powerdns.test.` for `ns.powerdns.test.`); the signer then
   * publishes `_dsboot.<zone>._signal.<ns>` there through the API. Absent: no signals.
   */
  signallingZone?: ZoneName | ZoneName[];
}

/** The configuration with every default filled in. */
export interface ResolvedPowerDnsConfig {
  id: string;
  server: NameServer;
  nameServers: NameServer[];
  api: { url: string; apiKeyFile: string };
  requestTimeoutMs: number;
  /** The signalling zones, as a list. */
  signallingZone?: ZoneName[];
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const SOURCE = 'powerdns plugin configuration';
const SECRET_HINT = 'secrets are never inline: put the API key in a file and set api.apiKeyFile';

/** The API base URL: http(s), no credentials, ending in /api/v1/servers/<server id>. */
const baseUrl = apiUrl({
  path: /\/api\/v1\/servers\/[^/]+$/,
  pathHint: '/api/v1/servers/<server id> (usually /api/v1/servers/localhost)',
  secretHint: SECRET_HINT,
});

const schema = object(
  {
    id: signerId({ lowerCaseOnly: true }),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    api: object(
      { url: baseUrl, apiKeyFile: filePath({ mustExist: true }) },
      { secretHint: SECRET_HINT },
    ),
    requestTimeoutMs: timeoutMs(DEFAULT_REQUEST_TIMEOUT_MS),
    signallingZone: optional(signallingZoneSetting()),
  },
  { secretHint: SECRET_HINT },
);

/**
 * Validates a raw configuration object. Throws ConfigError naming the offending key. With
 * `checkFiles` (at start-up) the API key file must be readable; it is read again at each call,
 * so it can be rotated.
 */
export const parseConfig: ConfigParser<ResolvedPowerDnsConfig> = configParser(
  schema,
  SOURCE,
  withNameServers,
);
