import type { Logger } from 'pino';

export interface Telemetry {
  shutdown(): Promise<void>;
}

/**
 * The composition root's hook for the OpenTelemetry SDK. Core and plugins only use
 * `@opentelemetry/api`, whose default provider is a no-op. This build ships no SDK or exporter
 * yet, so when the standard `OTEL_` variables ask for export, the sidecar says so once rather
 * than dropping spans silently. The SDK and the OTLP exporter are registered here when they land.
 */
export function configureTelemetry(environment: NodeJS.ProcessEnv, logger: Logger): Telemetry {
  const requested = Object.keys(environment).filter(
    (name) => name.startsWith('OTEL_') && name !== 'OTEL_SDK_DISABLED',
  );
  if (requested.length > 0) {
    logger.warn(
      { variables: requested },
      'OTEL_ variables are set, but this build has no OpenTelemetry SDK: no traces or metrics are exported',
    );
  }
  return { shutdown: () => Promise.resolve() };
}
