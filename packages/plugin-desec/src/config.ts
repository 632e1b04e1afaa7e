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
function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** The API base URL: https (http on loopback only), no credentials, ending in /api/v1 or /api/v2. */
const apiUrl: Field<string> = (value, scope) => {
  const raw = text()(value, scope);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    failConfig(scope, `is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    failConfig(
      scope,
      `must use https (http only on a loopback address): the token would travel in clear, got ${url.protocol}//${url.host}`,
    );
  if (url.username !== '' || url.password !== '')
    failConfig(scope, `must not contain credentials; ${SECRET_HINT}`);
  if (url.search !== '' || url.hash !== '')
    failConfig(scope, 'must not have a query string or a fragment');
  const path = url.pathname.replace(/\/+$/, '');
  if (!/\/api\/v[12]$/.test(path))
    failConfig(
      scope,
      `must end with /api/v1/ (e.g. ${DEFAULT_API_URL}), got path ${JSON.stringify(url.pathname)}`,
    );
  return `${url.origin}${path}`;
};

const schema = object(
  {
    id: signerId({ lowerCaseOnly: true }),
    api: object(
      {
        url: withDefault(apiUrl, DEFAULT_API_URL.replace(/\/$/, '')),
        tokenFile: filePath({ mustExist: true }),
      },
      { secretHint: SECRET_HINT },
    ),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    requestTimeoutMs: withDefault(
      integer({ min: 100, max: 600_000, unit: 'milliseconds' }),
      DEFAULT_REQUEST_TIMEOUT_MS,
    ),
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
  (parsed) => ({ ...parsed, nameServers: parsed.nameServers ?? [parsed.server] }),
);
