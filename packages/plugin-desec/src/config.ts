import type { NameServer } from '@chorus/core';
import {
  apiUrl,
  configParser,
  endpoint,
  filePath,
  list,
  object,
  optional,
  signerId,
  timeoutMs,
  withDefault,
  withNameServers,
  type ConfigParser,
} from '@chorus/dns';

/**
 * Configuration of one deSEC signer. Plain JSON; the API token is never in it, only the path of
 * the file that holds it.
 *
 * @example
 * {
 *   "id": "desec",
 *   "api": { "url": "https://desec.io/api/v1/", "tokenFile": "/etc/chorus/desec.token" },
 *   "server": { "address": "192.0.2.53" }
 * }
 */
export interface DesecConfig {
  /** The signer's id, e.g. `desec`: lower-case letters, digits and dashes. */
  id: string;
  api: {
    /** The API base URL. Default `https://desec.io/api/v1/`. */
    url?: string;
    /** A file whose content (trimmed) is sent as `Authorization: Token <content>`. */
    tokenFile: string;
  };
  /** A deSEC nameserver address; the apex is read from here, on the wire. */
  server: NameServer;
  /** Every address that serves the zone (post-conditions ask each). Default: `[server]`. */
  nameServers?: NameServer[];
  /** Time limit of each HTTP request and DNS query, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
}

/** The configuration with every default filled in; `api.url` has no trailing slash. */
export interface ResolvedDesecConfig {
  id: string;
  api: { url: string; tokenFile: string };
  server: NameServer;
  nameServers: NameServer[];
  requestTimeoutMs: number;
}

export const DEFAULT_API_URL = 'https://desec.io/api/v1/';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export const CONFIG_SOURCE = 'desec plugin configuration';
const SECRET_HINT = 'secrets are never inline: put the API token in a file and set api.tokenFile';

/** Hosts where plain http is acceptable: the token never leaves the machine. */

/** The API base URL: https (http on loopback only), no credentials, ending in /api/v1 or /api/v2. */
const baseUrl = apiUrl({
  path: /\/api\/v[12]$/,
  pathHint: `/api/v1/ (e.g. ${DEFAULT_API_URL})`,
  secretHint: SECRET_HINT,
  httpsUnlessLoopback: true,
});

const schema = object(
  {
    id: signerId({ lowerCaseOnly: true }),
    api: object(
      {
        url: withDefault(baseUrl, DEFAULT_API_URL.replace(/\/$/, '')),
        tokenFile: filePath({ mustExist: true }),
      },
      { secretHint: SECRET_HINT },
    ),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    requestTimeoutMs: timeoutMs(DEFAULT_REQUEST_TIMEOUT_MS),
  },
  { secretHint: SECRET_HINT },
);

/**
 * Validates a raw configuration object. Throws ConfigError naming the offending key. With
 * `checkFiles` (at start-up) the token file must be readable; it is read again at each call, so
 * it can be rotated.
 */
export const parseConfig: ConfigParser<ResolvedDesecConfig> = configParser(
  schema,
  CONFIG_SOURCE,
  withNameServers,
);
