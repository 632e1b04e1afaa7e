/**
 * The lab's state as `chorus lab status --json` prints it and as `lab.json` stores it.
 *
 * Everything a script needs to reach a server is here: addresses, ports, config and log files,
 * control endpoints and the paths of the secret files. Secret values themselves never appear.
 * Domain names are absolute, with a trailing dot.
 */

export type SignerId = 'bind' | 'powerdns' | 'knot';
/**
 * SaaS providers the lab fakes (`up --providers`): each is a real PowerDNS that signs and serves
 * the zones, behind a fake of the provider's REST API.
 */
export type ProviderId = 'desec' | 'ns1';
/** Deliberately misconfigured signers (`up --traps`): each breaks multi-signer model 2 one way. */
export type TrapId =
  | 'bind-inline-signing'
  | 'powerdns-no-direct-dnskey'
  | 'knot-full-management'
  | 'knot-zonefile-revert';
export type ServerId = 'parent' | SignerId | ProviderId | TrapId;
/** The nodes of the NATS JetStream cluster (`up --event-log nats`). */
export type NatsNodeId = 'nats-1' | 'nats-2' | 'nats-3';
/**
 * NATS users (`up --event-log nats`): `admin` manages the stream, one user per sidecar (the
 * signers and the providers that run), `operator` for the CLI, `observer` for independent watchers.
 */
export type NatsUser = 'admin' | 'operator' | 'observer' | SignerId | ProviderId;
/** The lab parent's registry agent (a Node process, not a nameserver). */
export type RegistryAgentId = 'registry-agent';
/** The fake registrar in front of the lab parent (`up --registrar`; a Node process). */
export type RegistrarId = 'registrar';
export type ResolverId =
  | 'resolver-delegation'
  | 'resolver-bind'
  | 'resolver-powerdns'
  | 'resolver-knot'
  | 'resolver-desec'
  | 'resolver-ns1'
  | 'resolver-cache'
  | 'resolver-forwarded';
export type Software = 'bind' | 'powerdns' | 'knot' | 'unbound';
/** How every signer of the lab (and the parent) proves that a name or type does not exist. */
export type DenialMethod = 'nsec' | 'nsec3';
/** The DNSSEC algorithm of every key in the lab: 13 (ECDSAP256SHA256) or 8 (RSASHA256, 2048 bits). */
export type LabAlgorithm = 13 | 8;

/** `rndc -c <configFile> status` works as is; the key file holds the rndc secret. */
export interface RndcControl {
  kind: 'rndc';
  address: string;
  port: number;
  keyFile: string;
  /** An rndc.conf that includes the key and names the server, so `rndc -c` needs nothing else. */
  configFile: string;
}

/** The PowerDNS HTTP API; send the content of `apiKeyFile` as the `X-API-Key` header. */
export interface PowerDnsApiControl {
  kind: 'powerdns-api';
  /** Base URL, e.g. `http://127.53.0.3:8081/api/v1/servers/localhost`. */
  url: string;
  address: string;
  port: number;
  apiKeyFile: string;
}

/** `knotc -c <configFile>` (or `-s <socket>`); keymgr needs `-c <configFile>`. */
export interface KnotcControl {
  kind: 'knotc';
  socket: string;
  configFile: string;
}

/** `unbound-control -c <configFile>`; the control socket is a unix socket, no certificates. */
export interface UnboundControl {
  kind: 'unbound-control';
  socket: string;
  configFile: string;
}

export type ServerControl = RndcControl | PowerDnsApiControl | KnotcControl;

/** A TSIG key in BIND format (`key "name" { algorithm …; secret "…"; };`), mode 0600. */
export interface TsigKeyReference {
  name: string;
  algorithm: 'hmac-sha256';
  keyFile: string;
}

/** Where a server keeps its DNSSEC private keys. */
export interface KeyStore {
  kind: 'key-directory' | 'sqlite-database' | 'kasp-database';
  path: string;
  /** A key-directory per zone: `path/{zone}` (the BIND plugin's `keyDirectory` setting). */
  zonePath?: string;
}

interface ProcessStatus {
  pid: number;
  /** Computed when the status is read: the PID exists and runs the expected binary. */
  alive: boolean;
  pidFile: string;
  directory: string;
  configFile: string;
  logFile: string;
  /** Absolute path of the binary that was started (checked against /proc/<pid>/cmdline). */
  binary: string;
  /** The network namespace it runs in (`up --hosts netns`); absent: the host's own. */
  namespace?: string;
}

/** One simulated host of `up --hosts netns`: a network namespace with one address. */
export interface LabHost {
  /** The server, NATS node or registry agent it runs. */
  id: string;
  namespace: string;
  address: string;
  /** A signer's host: it reaches the other signers' hosts on port 53 only (public DNS). */
  signer: boolean;
}

/**
 * Where the lab's processes run. `loopback`: all on this host's loopback. `netns`: the servers,
 * the registry agent and the NATS nodes each in a namespace of its own, on one bridge; the host
 * (resolvers, CLI, demo) reaches them through `uplink`.
 */
export interface LabHosts {
  mode: 'loopback' | 'netns';
  subnet?: string;
  uplink?: { interface: string; address: string };
  switchNamespace?: string;
  /** The nftables rules of the switch, as loaded (`nft -f`). */
  firewallFile?: string;
  namespaces: LabHost[];
}

/** What is wrong with a trap server. */
export interface TrapDescription {
  /** The config setting that makes it a trap, as it appears in `configFile`, e.g. `direct-dnskey=no`. */
  setting: string;
  /** What goes wrong for a multi-signer sidecar because of it. */
  problem: string;
}

export interface LabServer extends ProcessStatus {
  id: ServerId;
  /**
   * `signer`: set up for model 2. `trap`: a signer with one deliberate misconfiguration (see
   * `trap`); it serves every lab zone with its own keys but no parent delegates to it.
   */
  role: 'parent' | 'signer' | 'trap';
  software: Exclude<Software, 'unbound'>;
  /** As reported by `named -v`, `pdns_server --version` or `knotd -V`. */
  version: string;
  /** The name that the parent zone maps to `address`; it is the apex NS of this server's zones. */
  nameserverName: string;
  address: string;
  port: number;
  /** Zones this server is authoritative for. */
  zones: string[];
  control: ServerControl;
  /** The key allowed to send DNS UPDATE to this server's zones. */
  tsig: TsigKeyReference;
  keys: KeyStore;
  /** Only on `role: 'trap'`: the misconfiguration and what it breaks. */
  trap?: TrapDescription;
  /** ISO 8601 time of the last `lab restart` of this server; absent if never restarted. */
  restartedAt?: string;
}

export interface StubZone {
  zone: string;
  server: ServerId;
  address: string;
  port: number;
}

export interface LabResolver extends ProcessStatus {
  id: ResolverId;
  software: 'unbound';
  version: string;
  /**
   * `delegation`: only knows the parent and follows NS/DS from there, like on the Internet.
   * `forced-signer`: the lab zones are stub zones pointing at one signer only.
   * `cache`: resolves like `delegation` but does not validate (a plain ISP cache).
   * `forwarded`: validates, and asks `forwardTo` (the cache) for everything under the parent, so
   * when it retries after a bogus answer it gets the cache's copies again.
   */
  mode: 'delegation' | 'forced-signer' | 'cache' | 'forwarded';
  /** Whether it validates from the trust anchor (AD on authenticated answers). */
  validates: boolean;
  /** `forwarded` only: the resolver it forwards the parent zone and below to. */
  forwardTo?: { resolver: ResolverId; address: string; port: number };
  address: string;
  port: number;
  /** The server this resolver is pinned to and the zones pinned there (`forwarded`: its cache's). */
  target: { server: ServerId; zones: string[] };
  /** Every stub zone in the resolver's config. */
  stubZones: StubZone[];
  control: UnboundControl;
}

export interface DsRecordStatus {
  /** Presentation format, e.g. `test. 30 IN DS 12345 13 2 ABCD…`. */
  text: string;
  keyTag: number;
  algorithm: number;
  digestType: number;
  digest: string;
}

export interface LabTrustAnchor {
  zone: string;
  ds: DsRecordStatus[];
  /** The unbound `trust-anchor-file` shared by every resolver: the only anchor they have. */
  file: string;
  /**
   * The same anchor for `delv -a <delvFile> +root=<zone>`: a `trust-anchors { … static-ds … };`
   * clause.
   */
  delvFile: string;
}

/**
 * The lab parent's registry agent: a Node process that scans CDS/CDNSKEY and CSYNC of every lab
 * zone at the delegated nameservers (draft-ietf-dnsop-cds-consistency) and updates the parent
 * `test.` by TSIG UPDATE. `logFile` holds one JSON object per line; `configFile` is its
 * `agent.json` (no secrets: it names the parent's TSIG key file).
 */
export interface LabRegistryAgent extends ProcessStatus {
  id: RegistryAgentId;
  software: 'node';
  /** The command line after `binary`, exactly as started (liveness compares it). */
  arguments: string[];
  /** Where it accepts NOTIFY(CDS) and NOTIFY(CSYNC) (RFC 9859), over UDP. */
  address: string;
  port: number;
  /** Time between two scans of a zone. */
  intervalMs: number;
  parentZone: string;
  /** The delegations it maintains. */
  zones: string[];
  /** ISO 8601 time of the last `lab restart` of the agent; absent if never restarted. */
  restartedAt?: string;
}

/** What every REST API fake of the lab has: a Node process, its API address and its files. */
export interface LabFakeProcess extends ProcessStatus {
  software: 'node';
  /** The command line after `binary`, exactly as started (liveness compares it). */
  arguments: string[];
  /** Base URL of the API, e.g. `http://127.53.0.61:8000/v1/` (deSEC: `…/api/v1/`). */
  url: string;
  address: string;
  port: number;
  /** The API token or key, mode 0600. */
  tokenFile: string;
  /** Opens the fake's `/_fake/` control endpoints. */
  adminTokenFile: string;
  /** One JSON line per request, never a token. */
  requestLogFile: string;
  /** The token state (valid, expired, revoked) across restarts. */
  stateFile: string;
}

/**
 * A fake of a SaaS provider's REST API (a Node process), in front of the lab server `server` that
 * signs and serves the zones: what the API writes is what resolvers see. Point a plugin at `url`
 * with the token in `tokenFile` (0600). `adminTokenFile` opens the fake's `/_fake/` control
 * endpoints (faults, token state, the request record); `requestLogFile` has one JSON line per
 * request.
 */
export interface LabProviderApi extends LabFakeProcess {
  id: `${ProviderId}-api`;
  provider: ProviderId;
  /** The lab server behind the fake (PowerDNS): address of its zones on the wire. */
  server: ProviderId;
  /** The limits the fake enforces (the provider's documented ones unless `up --rate-limit`). */
  rateLimits: Record<string, unknown>;
}

/**
 * The fake registrar (`up --registrar`): a Node process serving a registrar's REST API at `url`
 * for an account that holds the lab's zones. What its PUTs accept it writes to the parent
 * `parentZone` by TSIG-signed DNS UPDATE, and it answers only once the parent serves it. Send
 * the content of `tokenFile` (0600) as `Authorization: Bearer …`; `adminTokenFile` opens its
 * `/_fake/` control endpoints (faults, token state, rate limits, the request record);
 * `requestLogFile` has one JSON line per request. It runs on this host's loopback, also with
 * `--hosts netns`.
 */
export interface LabRegistrar extends LabFakeProcess {
  id: RegistrarId;
  /** The zone it writes to (`test.`), with the parent's TSIG key. */
  parentZone: string;
  /** The account's domains: the lab's zones. Others under the parent are 403. */
  domains: string[];
  /** Its token bucket per API token (`up --rate-limit registrar.api=…`). */
  rateLimits: { api: { limit: number; periodSeconds: number } };
}

/** One node of the lab's NATS JetStream cluster. */
export interface LabNatsNode extends ProcessStatus {
  id: NatsNodeId;
  software: 'nats-server';
  /** As reported by `nats-server --version`. */
  version: string;
  address: string;
  /** Clients connect here, over TLS only. */
  clientPort: number;
  /** Routes between the nodes (mutual TLS with the lab's CA). */
  clusterPort: number;
  /** HTTP monitoring (`/healthz`, `/jsz`, `/varz`), plain HTTP on the node's loopback address. */
  monitorUrl: string;
  /** The JetStream store (the node's copy of every replicated stream). */
  storeDir: string;
  /** ISO 8601 time of the last `lab restart` of this node; absent if never restarted. */
  restartedAt?: string;
}

/**
 * The embedded event log: the SQLite file the demo's sidecars share (they create it, `up` does
 * not).
 */
export interface LabSqliteEventLog {
  kind: 'sqlite';
  path: string;
}

/**
 * The distributed event log (`up --event-log nats`): a 3-node NATS JetStream cluster on loopback,
 * clients over TLS with a password each. Event-log stream S lives on the subject
 * `subjectPrefix` + base64url(S) of the JetStream stream `streamName`.
 */
export interface LabNatsEventLog {
  kind: 'nats';
  /** `tls://<address>:<port>` of every node. */
  servers: string[];
  /** The lab's CA certificate: the only one the clients should trust for these servers. */
  caFile: string;
  streamName: string;
  /** Every event-log subject starts with it (`chorus.log.`). */
  subjectPrefix: string;
  replicas: number;
  clusterName: string;
  /** Per user, a file (mode 0600) holding exactly `user:password`. */
  credentialsFiles: Partial<Record<NatsUser, string>>;
  /** The included config file (0600) with the users, their bcrypt hashes and permissions. */
  authFile: string;
  nodes: LabNatsNode[];
}

export type LabEventLog = LabSqliteEventLog | LabNatsEventLog;

/**
 * Model 1 in the lab (`up --owner`): the zone whose DNSKEY RRset the owner's KSK signs, served by
 * the Knot signer through offline-KSK and, when the lab runs it, by the NS1 fake (presigned). The
 * KSK lives in a SoftHSM2 token under `directory`; an owner opens it with `hsm` (the PIN is in
 * `hsm.pinFile`, mode 0600, never in this status).
 */
export interface LabOwner {
  zone: string;
  /** The zone's servers, each serving the owner's DNSKEY RRset: `knot`, and `ns1` when it runs. */
  servers: ServerId[];
  directory: string;
  hsm: {
    module: string;
    tokenLabel: string;
    keyId: string;
    pinFile: string;
    env: { SOFTHSM2_CONF: string };
  };
  /** The owner's KSK as a DNSKEY (`flags protocol algorithm base64`) and its DS rdata, once `up` made it. */
  dnskey?: string;
  ds?: string;
}

/**
 * A signer's RFC 9615 signalling zone (`up --signalling`): `bind.test.` for `ns.bind.test.`,
 * served and signed by that signer alone, delegated from the parent with a DS. Its plugin writes
 * `_dsboot.<child>._signal.<nameserver>` CDS/CDNSKEY there as it writes to the lab's other zones
 * (BIND and Knot: DNS UPDATE with the server's TSIG key; PowerDNS: its HTTP API).
 */
export interface LabSignallingZone {
  server: SignerId;
  zone: string;
  /** The signer's NS name, inside `zone`. */
  nameserver: string;
}

export interface LabStatus {
  schemaVersion: 1;
  directory: string;
  stateFile: string;
  /** ISO 8601 time when `up` finished. */
  startedAt: string;
  /** Wall-clock time `up` took. */
  startupMs: number;
  /** True when every recorded process is alive (computed when read). */
  running: boolean;
  addressPrefix: string;
  port: number;
  /** Default TTL of every record the lab creates, in seconds. */
  ttl: number;
  /**
   * The algorithm of every key of every server, parent included (`up --algorithm`): 13
   * (ECDSAP256SHA256) or 8 (RSASHA256, 2048-bit KSK and ZSK). Older state files: 13.
   */
  algorithm: LabAlgorithm;
  /** Its mnemonic, `ECDSAP256SHA256` or `RSASHA256`. */
  algorithmName: string;
  /** How every server, parent included, denies existence (`up --denial`). Older state files: nsec. */
  denial: DenialMethod;
  /**
   * With `denial: 'nsec3'` only: the NSEC3PARAM rdata every server serves at each zone apex, the
   * same everywhere as RFC 9276 recommends: `1 0 0 -` (SHA-1, no opt-out, no extra iterations, no
   * salt).
   */
  nsec3param?: string;
  /** Automatic key lifetimes of the signers that roll on their own (`up --key-lifetimes`); absent: unlimited. */
  keyLifetimes?: { zskSeconds?: number; kskSeconds?: number };
  parentZone: string;
  /** The lab's signed zones, served identically by every signer. */
  zones: string[];
  /** Served by the BIND signer and delegated with a DS that matches none of its keys. */
  brokenZone: string;
  /** Served by the Knot signer alone, signed by one CSK; not delegated (absent in older state files). */
  cskZone?: string;
  /** The signers' signalling zones (`up --signalling`); empty without them. */
  signalling: LabSignallingZone[];
  /** The model-1 zone and its owner's KSK (`up --owner`); absent without it. */
  owner?: LabOwner;
  /**
   * Zones served by bind, powerdns and knot, each signing with its own keys, with the three NS
   * names at the apex, delegated without DS (`up --insecure-zone`); empty without them.
   */
  insecureZones: string[];
  /**
   * With port 53 the delegation resolver reaches the signers through NS and address records only.
   * With another port it cannot (NS records carry no port), so it gets stub zones for the child
   * zones and `followsDelegations` is false.
   */
  delegation: { followsDelegations: boolean; note: string };
  /** Whether `up` started the trap servers (`role: 'trap'` in `servers`). */
  traps: boolean;
  /** Addresses that `up` added to the loopback interface (named listens only on configured addresses); `down` removes them. */
  loopbackAliases: string[];
  /** Where the processes run (`up --hosts`); absent in older state files: loopback. */
  hosts?: LabHosts;
  servers: LabServer[];
  resolvers: LabResolver[];
  /** The registry agent, or null when the lab runs without one (`registryAgent: false`). */
  registryAgent: LabRegistryAgent | null;
  /** The SaaS provider fakes (`up --providers`); empty without them. */
  providers: LabProviderApi[];
  /** The fake registrar in front of the parent (`up --registrar`), or null without one. */
  registrar: LabRegistrar | null;
  /** Where the sidecars keep their shared event log (`up --event-log`, default SQLite). */
  eventLog: LabEventLog;
  trustAnchor: LabTrustAnchor;
}
