/**
 * nats-server configuration files: one per node (no secrets: it includes the auth file), and the
 * shared auth file (0600) with the account, its users, their bcrypt hashes and permissions.
 */
import type { ClientPermissions } from '@chorus/event-log-nats';
import type { NatsTlsFiles } from './nats-tls.js';
import type { LabNatsNode } from './types.js';

/** The JetStream-enabled account every lab user belongs to. */
export const NATS_ACCOUNT = 'CHORUS';
/** JetStream limits per node: the lab's logs are small. */
const MAX_MEMORY_STORE = '64MB';
const MAX_FILE_STORE = '1GB';

/** A NATS config string: double-quoted, so `$` and `>` are literal. */
function quoted(value: string): string {
  return JSON.stringify(value);
}

function list(values: readonly string[]): string {
  return `[${values.map(quoted).join(', ')}]`;
}

export interface NatsServerConfigOptions {
  node: LabNatsNode;
  clusterName: string;
  /** The other nodes' cluster endpoints. */
  peers: readonly Pick<LabNatsNode, 'address' | 'clusterPort'>[];
  tls: Pick<NatsTlsFiles, 'caFile' | 'certFile' | 'keyFile'>;
  /** The auth file, relative to the config file (nats-server resolves includes that way). */
  authInclude: string;
}

/**
 * One node: clients on its address over TLS only, routes to its peers over mutual TLS with the
 * lab CA, monitoring over HTTP on its address, JetStream in its own store.
 */
export function natsServerConfig(options: NatsServerConfigOptions): string {
  const { node, tls } = options;
  const certificate = [
    `    cert_file: ${quoted(tls.certFile)}`,
    `    key_file: ${quoted(tls.keyFile)}`,
  ];
  const routes = options.peers.map((peer) => `nats-route://${peer.address}:${peer.clusterPort}`);
  return [
    `server_name: ${quoted(node.id)}`,
    `listen: ${quoted(`${node.address}:${node.clientPort}`)}`,
    `http: ${quoted(new URL(node.monitorUrl).host)}`,
    `pid_file: ${quoted(node.pidFile)}`,
    '',
    '# Clients: TLS is required.',
    'tls {',
    ...certificate,
    '    timeout: 2',
    '}',
    '',
    'cluster {',
    `  name: ${quoted(options.clusterName)}`,
    `  listen: ${quoted(`${node.address}:${node.clusterPort}`)}`,
    `  routes: ${list(routes)}`,
    '  # Routes: mutual TLS, only holders of a certificate of the lab CA join.',
    '  tls {',
    ...certificate.map((line) => `  ${line}`),
    `      ca_file: ${quoted(tls.caFile)}`,
    '      verify: true',
    '      timeout: 2',
    '  }',
    '}',
    '',
    'jetstream {',
    `  store_dir: ${quoted(node.storeDir)}`,
    `  max_memory_store: ${MAX_MEMORY_STORE}`,
    `  max_file_store: ${MAX_FILE_STORE}`,
    '}',
    '',
    `include ${quoted(options.authInclude)}`,
    '',
  ].join('\n');
}

export interface NatsUserEntry {
  user: string;
  /** bcrypt: nats-server compares the password against it, the file holds no password. */
  passwordHash: string;
  /** null: every subject (the admin). */
  permissions: ClientPermissions | null;
}

function userEntry(entry: NatsUserEntry): string[] {
  const head = `    { user: ${quoted(entry.user)}, password: ${quoted(entry.passwordHash)}`;
  if (!entry.permissions) return [`${head} }`];
  return [
    `${head}, permissions: {`,
    `        publish: { allow: ${list(entry.permissions.publish)} }`,
    `        subscribe: { allow: ${list(entry.permissions.subscribe)} }`,
    '    } }',
  ];
}

/** The account with JetStream and every user; anonymous clients are refused. */
export function natsAuthConfig(users: readonly NatsUserEntry[]): string {
  return [
    'accounts {',
    `  ${NATS_ACCOUNT} {`,
    '    jetstream: enabled',
    '    users: [',
    ...users.flatMap(userEntry).map((line) => `  ${line}`),
    '    ]',
    '  }',
    '}',
    '',
  ].join('\n');
}
