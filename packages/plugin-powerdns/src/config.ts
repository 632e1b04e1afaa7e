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
 *   }
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
}

/** The configuration with every default filled in. */
export interface ResolvedPowerDnsConfig {
  id: string;
  server: NameServer;
  nameServers: NameServer[];
  api: { url: string; apiKeyFile: string };
  requestTimeoutMs: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

const SOURCE = 'powerdns plugin configuration';
const SECRET_HINT = 'secrets are never inline: put the API key in a file and set api.apiKeyFile';

/** The server's base URL in the API: http(s), no credentials, ending in /api/v1/servers/<id>. */
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
  if (!/\/api\/v1\/servers\/[^/]+$/.test(path))
    failConfig(
      scope,
      `must end with /api/v1/servers/<server id> (usually /api/v1/servers/localhost), got path ${JSON.stringify(url.pathname)}`,
    );
  return `${url.origin}${path}`;
};

const schema = object(
  {
    id: signerId({ lowerCaseOnly: true }),
    server: endpoint(),
    nameServers: optional(list(endpoint(), { hint: '{ address, port? }' })),
    api: object(
      { url: apiUrl, apiKeyFile: filePath({ mustExist: true }) },
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
export const parseConfig: ConfigParser<ResolvedPowerDnsConfig> = configParser(
  schema,
  SOURCE,
  (parsed) => ({ ...parsed, nameServers: parsed.nameServers ?? [parsed.server] }),
);
