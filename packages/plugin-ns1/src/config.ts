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
  text,
  timeoutMs,
  withDefault,
  withNameServers,
  type ConfigParser,
} from '@chorus/dns';

/**
 * Configuration of one NS1 signer. Plain JSON; the API key is never in it, only the path of the
 * file that holds it.
 *
 * @example
 * {
 *   "id": "ns1",
 *   "server": { "address": "198.51.100.53" },
 *   "api": { "apiKeyFile": "/etc/chorus/ns1-api.key" }
 * }
 */
export interface Ns1Config {
  /** The signer's id, e.g. `ns1`: lower-case letters, digits and dashes. */
  id: string;
  /** An NS1 nameserver of the zone; the apex is read from here, on the wire. */
  server: NameServer;
  /** Every address that serves this signer's zones (post-conditions ask each). Default: `[server]`. */
  nameServers?: NameServer[];
  api: {
    /** Base URL of the API, ending in `/v1/`. Default `https://api.nsone.net/v1/`. */
    url?: string;
    /** A file whose content (trimmed) is sent as the `X-NSONE-Key` header. */
    apiKeyFile: string;
    /** The external DNSSEC key set that holds the foreign DNSKEYs. Default `chorus`. */
    externalKeySet?: string;
  };
  /** Time limit of each HTTP request and DNS query, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
}

/** The configuration with every default filled in. */
export interface ResolvedNs1Config {
  id: string;
  server: NameServer;
  nameServers: NameServer[];
  api: { url: string; apiKeyFile: string; externalKeySet: string };
  requestTimeoutMs: number;
}

export const DEFAULT_API_URL = 'https://api.nsone.net/v1/';
export const DEFAULT_EXTERNAL_KEY_SET = 'chorus';
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

export const CONFIG_SOURCE = 'ns1 plugin configuration';
const SECRET_HINT = 'secrets are never inline: put the API key in a file and set api.apiKeyFile';

/** The API's base URL: http(s), no credentials, path ending in /v1; normalised to end in `/v1/`. */
const baseUrl = apiUrl({
  path: /\/v1$/,
  pathHint: `/v1/ (e.g. ${DEFAULT_API_URL})`,
  secretHint: SECRET_HINT,
  trailingSlash: true,
});

const keySetName = text({
  pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
  hint: 'a key set name: letters, digits, dots, dashes and underscores, at most 64',
});

const schema = object(
  {
    id: signerId({ lowerCaseOnly: true }),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    api: object(
      {
        url: withDefault(baseUrl, DEFAULT_API_URL),
        apiKeyFile: filePath({ mustExist: true }),
        externalKeySet: withDefault(keySetName, DEFAULT_EXTERNAL_KEY_SET),
      },
      { secretHint: SECRET_HINT },
    ),
    requestTimeoutMs: timeoutMs(DEFAULT_REQUEST_TIMEOUT_MS),
  },
  { secretHint: SECRET_HINT },
);

/**
 * Validates a raw configuration object. Throws ConfigError naming the offending key. With
 * `checkFiles` (at start-up) the API key file must be readable; it is read again at each call,
 * so it can be rotated.
 */
export const parseConfig: ConfigParser<ResolvedNs1Config> = configParser(
  schema,
  CONFIG_SOURCE,
  withNameServers,
);
