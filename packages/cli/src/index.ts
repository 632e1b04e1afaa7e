export { runCli } from './cli.js';
export { demoCommand } from './commands/demo.js';
export type { CliIo } from './io.js';
export { UsageError } from './args.js';
export {
  sidecarConfigFor,
  signerPluginConfigFor,
  startSidecarProcess,
  stopSidecarProcess,
} from './demo/sidecars.js';
export type { RunningSidecar } from './demo/sidecars.js';
export { TrafficMonitor } from './demo/traffic.js';
export type { TrafficFailure, TrafficReport, TrafficResolver } from './demo/traffic.js';
export { runSoak } from './demo/soak.js';
export { notCompletedZonesOf, runScale } from './demo/scale.js';
export type { NotCompletedZone, ScaleOptions, ScaleReport } from './demo/scale.js';
export type { SoakOptions, SoakReport } from './demo/soak.js';
export {
  KIT_OPERATOR,
  ensureTrustKit,
  kitOperatorLog,
  kitSidecarLog,
  trustKitAt,
  type TrustKit,
} from './coordination/trust-kit.js';
export { asOperator, readZone } from './coordination/event-log.js';
export { labEventLogConfig, openLabEventLog } from './demo/demo-log.js';
export { CLI_COORDINATION, parseListen, serveOnLog } from './commands/serve.js';
