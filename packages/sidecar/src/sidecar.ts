import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { pino, type Logger } from 'pino';
import { createObserveOnlyParentChannel, createRegistrarParentChannel } from '@chorus/parent';
import {
  createSigningEventLog,
  type ChorusEvent,
  type EventLog,
  type ParentChannel,
  type Signer,
} from '@chorus/core';
import { openEventLog } from './event-log.js';
import { loadEventKey } from './event-trust.js';
import type { SidecarConfig } from './config.js';
import type { ParentNotifyTargets } from './parent-notify.js';
import { loadSignerPlugin, type ModuleImporter } from './plugin-loader.js';
import { createSidecarObservers } from './observers.js';
import { SidecarRuntime } from './runtime.js';
import { configureTelemetry, traceLogFields, type Telemetry } from './telemetry.js';
import { TOKENS } from './tokens.js';

/** pino fields that must never be printed. */
export const REDACTED_PATHS = [
  '*.secret',
  '*.apiKey',
  '*.token',
  '*.tsigSecret',
  '*.password',
  'headers.authorization',
];

/** The registrar's API when configured, else the parent observed only. */
function parentChannelFor(config: SidecarConfig, logger: Logger): ParentChannel {
  const { zone, servers, registrar } = config.parent;
  const common = { parentZone: zone, parentServers: servers };
  if (!registrar) return createObserveOnlyParentChannel({ id: `${config.id}-parent`, ...common });
  return createRegistrarParentChannel({
    id: 'registrar',
    url: registrar.url,
    tokenFile: registrar.tokenFile,
    ...common,
    logger: logger.child({ component: 'registrar' }),
  });
}

/** `parent.notify` as the runtime takes it: DSYNC discovery unless configured otherwise. */
function parentNotifyTargets(parent: SidecarConfig['parent']): ParentNotifyTargets {
  const setting = parent.notify ?? 'dsync';
  if (setting === 'dsync')
    return { kind: 'dsync', parentZone: parent.zone, parentServers: parent.servers };
  return { kind: 'fixed', servers: setting === 'off' ? [] : setting };
}

export function createRootLogger(
  level: SidecarConfig['logLevel'] = 'info',
  destination?: NodeJS.WritableStream,
): Logger {
  return pino(
    {
      level: level ?? 'info',
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { service: 'chorus-sidecar' },
      // trace_id and span_id of the active span: lines logged inside a span name their trace.
      mixin: traceLogFields,
    },
    destination as pino.DestinationStream | undefined,
  );
}

/**
 * The composition root: the only place that touches the tsyringe container, builds the root
 * logger and picks the implementations. Registers everything by explicit token (esbuild-based
 * runners emit no decorator metadata).
 */
export async function composeSidecar(
  config: SidecarConfig,
  options: {
    logger?: Logger;
    parent?: ParentChannel;
    eventLog?: EventLog<ChorusEvent>;
    importModule?: ModuleImporter;
    /** Where the `OTEL_` variables are read; default `process.env`. */
    environment?: NodeJS.ProcessEnv;
  } = {},
): Promise<{
  runtime: SidecarRuntime;
  container: DependencyContainer;
  telemetry: Telemetry;
  logger: Logger;
  /** Closes the event log the sidecar opened (not one passed in), after `runtime.stop()`. */
  closeEventLog: () => Promise<void>;
}> {
  const container = rootContainer.createChildContainer();
  const logger = (options.logger ?? createRootLogger(config.logLevel)).child({
    sidecar: config.id,
  });
  const telemetry = configureTelemetry(options.environment ?? process.env, logger, {
    serviceName: 'chorus-sidecar',
    serviceInstanceId: config.id,
    attributes: { 'chorus.component': 'sidecar', 'chorus.sidecar.id': config.id },
  });
  try {
    const { runtime, closeEventLog } = await composeRuntime(config, container, logger, options);
    return { runtime, container, telemetry, logger, closeEventLog };
  } catch (error) {
    await telemetry.shutdown();
    throw error;
  }
}

async function composeRuntime(
  config: SidecarConfig,
  container: DependencyContainer,
  logger: Logger,
  options: {
    parent?: ParentChannel;
    eventLog?: EventLog<ChorusEvent>;
    importModule?: ModuleImporter;
  },
): Promise<{ runtime: SidecarRuntime; closeEventLog: () => Promise<void> }> {
  const signingKey = loadEventKey(config.eventKeyFile);
  logger.info({ publicKey: signingKey.publicKey }, 'event key loaded');
  const plugin = await loadSignerPlugin(config.signer.plugin, options.importModule);
  const signer: Signer = plugin.create(plugin.parseConfig(config.signer.config), {
    logger: logger.child({ plugin: plugin.kind, signerId: config.id }),
  });
  if (signer.id !== config.id)
    logger.warn(
      { signerId: signer.id, sidecarId: config.id },
      'the plugin config id differs from the sidecar id; the sidecar id is used in the event log',
    );
  const eventLog =
    options.eventLog ??
    (await openEventLog(config.eventLog, logger.child({ component: 'event-log' })));
  const parent = options.parent ?? parentChannelFor(config, logger);
  container.register(TOKENS.config, { useValue: config });
  container.register(TOKENS.logger, { useValue: logger });
  container.register(TOKENS.eventLog, { useValue: eventLog });
  container.register(TOKENS.signer, { useValue: signer });
  container.register(TOKENS.parentChannel, { useValue: parent });
  const runtime = new SidecarRuntime({
    id: config.id,
    zones: config.zones,
    nameServerNames: config.nameServerNames,
    keyWatchSeconds: config.keyWatchSeconds ?? 30,
    ...(config.keyWatchPerSecond !== undefined
      ? { keyWatchPerSecond: config.keyWatchPerSecond }
      : {}),
    parentNotify: parentNotifyTargets(config.parent),
    ...(config.maxConcurrentChanges !== undefined
      ? { maxConcurrentChanges: config.maxConcurrentChanges }
      : {}),
    log: container.resolve<EventLog<ChorusEvent>>(TOKENS.eventLog),
    signer: container.resolve<Signer>(TOKENS.signer),
    parent: container.resolve<ParentChannel>(TOKENS.parentChannel),
    logger,
    signingKey,
    foldPolicy: {
      anchor: config.trust,
      ...(config.unsafeAllowSkipWaits ? { allowUnsafeSkipWaits: true } : {}),
    },
    observers: createSidecarObservers(
      config,
      createSigningEventLog(eventLog, signingKey),
      logger.child({ component: 'observers' }),
    ).observers,
  });
  // A NATS connection left open keeps the process alive after a stop.
  const closeEventLog = options.eventLog ? () => Promise.resolve() : () => eventLog.close();
  return { runtime, closeEventLog };
}
