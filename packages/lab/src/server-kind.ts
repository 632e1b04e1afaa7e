/**
 * What the lab needs to know about one kind of daemon (BIND, PowerDNS, Knot, unbound…). Each kind
 * lives in its own file and is listed once in server-kinds.ts; the orchestration (plan, prepare,
 * start, readiness, restart) only ever calls these hooks, so a new kind (NSD, a PowerDNS behind a
 * fake REST API…) is one new file.
 */
import type { LabConfig } from './config.js';
import type { RequiredFile } from './commands.js';
import { LabError } from './errors.js';
import type { CheckResult } from './readiness.js';
import type { OwnerFirstSigning } from './owner.js';
import type { LabResolver, LabServer } from './types.js';

/** Absolute path of each program, from `checkPrograms`. */
export type Programs = Readonly<Record<string, string>>;

/** The path of `name` in `programs`; the kind declared it, so `checkPrograms` found it. */
export function programPath(programs: Programs, name: string): string {
  const found = programs[name];
  if (found === undefined) throw new Error(`internal: program ${name} was not looked up`);
  return found;
}

/** Hooks every daemon kind provides, servers and resolvers alike. */
export interface LabDaemonKind<Entry extends LabServer | LabResolver> {
  /** Programs it runs or its status points to, each with the Debian package that ships it. */
  programs: Readonly<Record<string, string>>;
  /** Data files it needs (e.g. a database schema), each with its Debian package. */
  requiredFiles?: readonly RequiredFile[];
  /** The version string as the daemon reports it, or 'unknown'. */
  version(programs: Programs): Promise<string>;
  /** The command line after the binary. */
  daemonArguments(entry: Entry): string[];
  /** Unix sockets it listens on (their paths must fit sockaddr_un). */
  sockets(entry: Entry): string[];
  /** Passes once the control endpoint answers. */
  controlCheck(entry: Entry, programs: Programs): () => Promise<CheckResult>;
}

/** What a server of this kind adds to its `LabServer` entry: files, control and key store. */
export type ServerLayout = Pick<
  LabServer,
  'software' | 'binary' | 'configFile' | 'logFile' | 'pidFile' | 'control' | 'keys'
>;

export interface PrepareContext {
  config: LabConfig;
  programs: Programs;
  /** The server's TSIG secret (the BIND-format key file is already written). */
  tsigSecret: string;
  /** With `owner`, at a server of the model-1 zone: the owner signs its first DNSKEY RRset. */
  owner?: OwnerFirstSigning;
}

/** The DS (rdata `tag alg digest-type HEX`) of a server's KSK for one zone. */
export interface ZoneDs {
  zone: string;
  ds: string;
}

/**
 * The first SHA-256 DS in a tool's output (`keymgr … ds`, `pdnsutil export-zone-ds`), as a
 * ZoneDs with an upper-case digest.
 */
export function sha256DsFrom(zone: string, output: string): ZoneDs {
  const match = /\sDS\s+(\d+)\s+(\d+)\s+2\s+([0-9a-f]+)/i.exec(output);
  if (!match) throw new LabError(`no SHA-256 DS for ${zone} in: ${output.trim()}`);
  return { zone, ds: `${match[1]} ${match[2]} 2 ${match[3]!.toUpperCase()}` };
}

export interface LabServerKind extends LabDaemonKind<LabServer> {
  software: LabServer['software'];
  /** named listens only on addresses configured on an interface (see loopback.ts). */
  needsLoopbackAlias: boolean;
  /** The entry's kind-specific part, for a server living in `home` at `address`. */
  layout(home: string, address: string, programs: Programs): ServerLayout;
  /**
   * Writes its configs, its own secrets (mode 0600), zone files and keys; returns the DS of its
   * KSK per zone when it knows them up front (the parent delegates with them), else [].
   */
  prepare(server: LabServer, context: PrepareContext): Promise<ZoneDs[]>;
}
