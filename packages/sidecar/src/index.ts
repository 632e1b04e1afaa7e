export { loadSidecarConfig, parseSidecarConfig } from './config.js';
export type { SidecarConfig, SidecarObserversConfig } from './config.js';
export { createSidecarObservers } from './observers.js';
export type { SidecarObservers } from './observers.js';
export { loadSignerPlugin } from './plugin-loader.js';
export type { ModuleImporter } from './plugin-loader.js';
export { SidecarRuntime } from './runtime.js';
export type { SidecarRuntimeOptions } from './runtime.js';
export { REDACTED_PATHS, composeSidecar, createRootLogger } from './sidecar.js';
export { TOKENS } from './tokens.js';
export {
  canChooseSpanIds,
  configureTelemetry,
  describeEndpoint,
  otlpSettingsFromEnvironment,
  startSpanWithIds,
  traceLogFields,
} from './telemetry.js';
export type { OtlpSettings, Telemetry, TelemetryOptions } from './telemetry.js';
export { ProcessTracer, stepSpanId } from './process-trace.js';
export {
  createEventKeyFile,
  loadEventKey,
  loadTrustFile,
  parseTrustAnchor,
} from './event-trust.js';
export { openEventLog, parseEventLogConfig } from './event-log.js';
export type { EventLogConfig } from './event-log.js';
