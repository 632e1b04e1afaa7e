import type { NameServer } from '@chorus/core';
import {
  configParser,
  endpoint,
  failConfig,
  filePath,
  integer,
  list,
  object,
  optional,
  signerId,
  text,
  withDefault,
  type ConfigParser,
  type Field,
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
const apiUrl: Field<string> = (value, scope) => {
  const raw = text()(value, scope);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    failConfig(scope, `is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    failConfig(scope, `must use http or https, got ${url.protocol}`);
  if (url.username !== '' || url.password !== '')
    failConfig(scope, `must not contain credentials; ${SECRET_HINT}`);
  if (url.search !== '' || url.hash !== '')
    failConfig(scope, 'must not have a query string or a fragment');
  const path = url.pathname.replace(/\/+$/, '');
  if (!path.endsWith('/v1'))
    failConfig(
      scope,
      `must end with /v1/ (e.g. ${DEFAULT_API_URL}), got path ${JSON.stringify(url.pathname)}`,
    );
  return `${url.origin}${path}/`;
};

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
        url: withDefault(apiUrl, DEFAULT_API_URL),
        apiKeyFile: filePath({ mustExist: true }),
        externalKeySet: withDefault(keySetName, DEFAULT_EXTERNAL_KEY_SET),
      },
      { secretHint: SECRET_HINT },
    ),
    requestTimeoutMs: withDefault(
      integer({ min: 100, max: 600_000, unit: 'milliseconds' }),
      DEFAULT_REQUEST_TIMEOUT_MS,
    ),
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
  (parsed) => ({ ...parsed, nameServers: parsed.nameServers ?? [parsed.server] }),
);
