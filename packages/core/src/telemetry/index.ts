// Telemetry on @opentelemetry/api only: spans, metrics and plugin instrumentation.
export {
  TRACER_NAME,
  activeTraceparent,
  contextFromTraceparent,
  recordError,
  spanContextFromTraceparent,
  traceparentOf,
  tracer,
  withSpan,
} from './tracing.js';
export type { WithSpanOptions } from './tracing.js';
export {
  METER_NAME,
  recordPluginCall,
  recordProcess,
  recordStep,
  recordValidationCheck,
  recordValidationFailure,
  recordWait,
} from './metrics.js';
export type { CallOutcome, ProcessOutcome, ValidationVerdict } from './metrics.js';
export { instrumentParentChannel, instrumentSigner } from './instrument.js';
export type { InstrumentOptions } from './instrument.js';
